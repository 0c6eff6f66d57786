"""Materializing the lanes through Dagster must account for every line and pass every check."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from born_assets_tests.conftest import input_lines
from born_assets_tests.graph import check_results, materialization_metadata, materialize_all


def test_the_sample_graph_materializes_with_every_check_passing(data_dir: Path) -> None:
    result = materialize_all(data_dir)
    assert result.success
    checks = check_results(result)
    assert checks and all(checks.values()), checks
    assert ("lanes/mbpp-plus-reference", "lines_reconcile") in checks
    assert ("row_fates", "fates_reconcile") in checks


def test_lane_metadata_counts_reconcile_and_name_reasons(data_dir: Path) -> None:
    result = materialize_all(data_dir)
    meta = materialization_metadata(result, "lanes/mbpp-plus-reference")
    assert meta["lines_read"] == meta["rows_accepted"] + meta["rows_quarantined"]  # type: ignore[operator]
    assert meta["rows_quarantined"] == 11
    reasons = {r.data["reason"]: r.data["rows"] for r in meta["quarantined_by_reason"].records}  # type: ignore[attr-defined]
    assert reasons["not_utf8"] == 1
    assert reasons["duplicate_line"] == 1
    assert reasons["prompt_hash_mismatch"] == 1
    assert "dagster/column_schema" in meta
    assert meta["dagster/row_count"] == meta["rows_accepted"]


def test_every_line_has_exactly_one_fate(data_dir: Path) -> None:
    materialize_all(data_dir)
    lines = input_lines(data_dir)
    with duckdb.connect() as con:
        fates = con.execute(
            "SELECT count(*), count(DISTINCT (source_file, source_line)) FROM read_parquet(?)",
            [str(data_dir / "warehouse" / "row_fates" / "row_fates.parquet")],
        ).fetchone()
    assert fates == (lines, lines)


def example_ids(data_dir: Path) -> set[str]:
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT example_id FROM read_parquet(?)",
            [str(data_dir / "warehouse" / "lanes" / "humaneval-reference" / "rows.parquet")],
        ).fetchall()
    return {r[0] for r in rows}


def test_example_ids_do_not_depend_on_file_names_or_order(data_dir: Path, tmp_path: Path) -> None:
    materialize_all(data_dir, "lanes/humaneval-reference")
    before = example_ids(data_dir)
    lane = data_dir / "lanes" / "humaneval-reference"
    lines = b"".join(p.read_bytes() for p in sorted(lane.glob("*.jsonl")))
    shutil.rmtree(lane)
    lane.mkdir()
    (lane / "all-reversed.jsonl").write_bytes(b"\n".join(reversed(lines.splitlines())) + b"\n")
    materialize_all(data_dir, "lanes/humaneval-reference")
    assert example_ids(data_dir) == before
    assert len(before) == 109


def test_what_a_lane_folder_holds_besides_files_is_named_not_read(data_dir: Path) -> None:
    """A link to nothing and a FIFO hold no lines: the run goes on and says it did not read them."""
    import os

    lane = data_dir / "lanes" / "humaneval-reference"
    (lane / "part-008.jsonl").symlink_to(lane / "moved-away.jsonl")
    os.mkfifo(lane / "part-009.jsonl")  # opened, it would wait for a writer forever
    result = materialize_all(data_dir, "lanes/humaneval-reference")
    assert result.success
    meta = materialization_metadata(result, "lanes/humaneval-reference")
    assert meta["entries_not_read"] == [
        "lanes/humaneval-reference/part-008.jsonl",
        "lanes/humaneval-reference/part-009.jsonl",
    ]
    assert meta["lines_read"] == meta["rows_accepted"] + meta["rows_quarantined"]  # type: ignore[operator]
