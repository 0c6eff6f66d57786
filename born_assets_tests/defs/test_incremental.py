"""Incremental builds: unchanged sources are not read again, known rows are not recomputed.

And the result is byte for byte what a build from scratch gives.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.store.memo import RowMemo, in_input_order, remembered_stream, write_versions
from born_assets.store.unchanged import record
from born_assets_tests.conftest import copy_sample_data
from born_assets_tests.graph import materialization_metadata, materialize_all

TABLES = (
    "sanitized/rows.parquet",
    "sanitized/exits.parquet",
    "gated/rows.parquet",
    "gated/exits.parquet",
    "deduplicated/rows.parquet",
    "deduplicated/near_duplicates.parquet",
    "deduplicated/signatures.parquet",
    "pii/rows.parquet",
    "pii/redacted.parquet",
    "contamination/rows.parquet",
    "contamination/matches.parquet",
    "contamination/report.parquet",
    "contamination/checks.parquet",
    "contamination/nearest.parquet",
    "row_fates/row_fates.parquet",
)
SPLIT_LANE = "bigcodebench-reference"
UNCHANGED_IMPORT = "hermes-agent-trajectories"


def digests(data_dir: Path) -> dict[str, str]:
    return {
        name: hashlib.sha256((data_dir / "warehouse" / name).read_bytes()).hexdigest()
        for name in TABLES
    }


def split_lane_file(data_dir: Path) -> None:
    """Move the second half of a lane's only file into a new file: same rows, new places."""
    path = data_dir / "lanes" / SPLIT_LANE / "part-000.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    path.write_bytes(b"".join(lines[:half]))
    (data_dir / "lanes" / SPLIT_LANE / "part-001.jsonl").write_bytes(b"".join(lines[half:]))


def test_rebuild_reads_only_the_changed_lane_and_matches_a_fresh_build(tmp_path: Path) -> None:
    data_dir = copy_sample_data(tmp_path / "incremental")
    first = materialize_all(data_dir)
    assert materialization_metadata(first, "sanitized")["rows_remembered"] == 0
    split_lane_file(data_dir)

    again = materialize_all(data_dir)

    expected = {
        "lanes/humaneval-reference": True,
        f"imports/{UNCHANGED_IMPORT}": True,
        f"lanes/{SPLIT_LANE}": False,
    }
    reused = {
        key: materialization_metadata(again, key)["reused_previous_ingest"] for key in expected
    }
    assert reused == expected
    sanitized = materialization_metadata(again, "sanitized")
    gated = materialization_metadata(again, "gated")
    assert sanitized["rows_remembered"] == sanitized["rows_out"]
    # The unchanged sources' row groups are copied as bytes, the moved rows' encoded again.
    groups = pq.ParquetFile(data_dir / "warehouse/sanitized/rows.parquet").metadata.num_row_groups
    copied = sanitized["row_groups_copied"]
    assert isinstance(copied, int) and 0 < copied < groups
    assert gated["rows_remembered"] == gated["rows_in"]
    deduplicated = materialization_metadata(again, "deduplicated")
    signed = data_dir / "warehouse/deduplicated/signatures.parquet"
    assert deduplicated["signatures_remembered"] == pq.ParquetFile(signed).metadata.num_rows > 0
    for key in ("pii", "contamination"):
        assert (
            remembered_rows(again, key) == materialization_metadata(again, key)["dagster/row_count"]
        )
    fresh_dir = copy_sample_data(tmp_path / "fresh")
    split_lane_file(fresh_dir)
    materialize_all(fresh_dir)
    assert digests(data_dir) == digests(fresh_dir)
    moved = pq.read_table(
        data_dir / "warehouse/sanitized/rows.parquet", columns=["source_file"]
    ).column(0)
    assert f"lanes/{SPLIT_LANE}/part-001.jsonl" in moved.to_pylist()


def test_a_policy_change_recomputes_every_verdict(tmp_path: Path) -> None:
    data_dir = copy_sample_data(tmp_path / "data")
    materialize_all(data_dir)
    policy = data_dir / "policy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    again = materialize_all(data_dir, "key:sanitized or key:gated")
    # The closure policy did not change: sanitized keeps its whole output (store/unchanged.py).
    assert materialization_metadata(again, "sanitized")["inputs_unchanged"] is True
    assert materialization_metadata(again, "gated")["inputs_unchanged"] is False
    assert remembered_rows(again, "gated") == 0


def test_a_closure_policy_change_is_not_answered_from_the_last_scans(tmp_path: Path) -> None:
    """A closure policy change gives rows new texts under their old ids: nothing is remembered.

    The PII scan and the contamination check read sanitized texts, which the closure policy
    shapes; their tables must be a fresh build's.
    """
    data_dir = copy_sample_data(tmp_path / "data")
    materialize_all(data_dir)
    shorter_outputs(data_dir)
    again = materialize_all(data_dir)
    assert materialization_metadata(again, "sanitized")["rows_remembered"] == 0
    for key in ("pii", "contamination"):
        assert remembered_rows(again, key) == 0
    fresh_dir = copy_sample_data(tmp_path / "fresh")
    shorter_outputs(fresh_dir)
    materialize_all(fresh_dir)
    assert digests(data_dir) == digests(fresh_dir)


def shorter_outputs(data_dir: Path) -> None:
    """Cut tool outputs in Checks to 200 characters: trace rows get new closure texts."""
    policy = data_dir / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "  max_output_chars: 2000\n" in text
    policy.write_text(text.replace("  max_output_chars: 2000\n", "  max_output_chars: 200\n"))


def remembered_rows(result: dg.ExecuteInProcessResult, key: str) -> int:
    value = materialization_metadata(result, key)["rows_remembered"]
    assert isinstance(value, int)
    return value


def _table(ids: list[str], row_group: int, path: Path) -> Path:
    table = pa.table({"example_id": ids, "value": [f"v-{i}" for i in ids]})
    pq.write_table(table, path, row_group_size=row_group)
    return path


def test_memo_finds_rows_across_row_groups_in_any_order(tmp_path: Path) -> None:
    ids = [f"ex_{i:03d}" for i in range(50)]
    memo = RowMemo(_table(ids, 7, tmp_path / "t.parquet"), ["value"])
    wanted = pa.array(["ex_049", "nope", "ex_000", "ex_020", "ex_007", "ex_006"])
    positions = memo.find(wanted)
    assert positions.tolist() == [49, -1, 0, 20, 7, 6]
    taken = memo.take(positions[positions >= 0])
    assert taken.column("value").to_pylist() == [
        "v-ex_049", "v-ex_000", "v-ex_020", "v-ex_007", "v-ex_006"
    ]  # fmt: skip


def test_memo_takes_runs_across_row_groups_in_order_and_runs_out_of_order(tmp_path: Path) -> None:
    ids = [f"ex_{i:03d}" for i in range(50)]
    memo = RowMemo(_table(ids, 7, tmp_path / "t.parquet"), ["value"])
    runs = np.array([5, 6, 7, 8, 9, 10, 30, 31])  # two runs, the first over two row groups
    assert memo.take(runs).column("value").to_pylist() == [f"v-ex_{i:03d}" for i in runs]
    shuffled = np.array([8, 9, 5, 6, 7, 31, 30])  # in runs, but not in the file's order
    assert memo.take(shuffled).column("value").to_pylist() == [f"v-ex_{i:03d}" for i in shuffled]
    memo = RowMemo(tmp_path / "t.parquet", ["example_id", "value"])
    backwards = [f"ex_{i:03d}" for i in runs[::-1]]
    assert in_input_order(pa.array(backwards), [memo.take(runs)]).column(0).to_pylist() == backwards


def test_memo_is_empty_when_versions_differ(tmp_path: Path) -> None:
    _table(["ex_1"], 1, tmp_path / "rows.parquet")
    write_versions(tmp_path, {"code": "a"})
    record(tmp_path, [], {"code": "a"})  # the file hashes a stage records as it publishes
    assert len(RowMemo.open(tmp_path, "rows.parquet", {"code": "a"}, ["value"])) == 1
    assert len(RowMemo.open(tmp_path, "rows.parquet", {"code": "b"}, ["value"])) == 0
    assert len(RowMemo.open(tmp_path / "none", "rows.parquet", {"code": "a"}, ["value"])) == 0


def upper(batch: pa.RecordBatch) -> pa.Table:
    values = [v.upper() for v in batch.column("value").to_pylist()]
    return pa.table({"example_id": batch.column("example_id"), "value": values})


@pytest.mark.parametrize("workers", [1, 2])
def test_remembered_stream_computes_only_unknown_or_changed_rows(
    tmp_path: Path, workers: int
) -> None:
    memo = RowMemo(_table(["ex_1", "ex_2", "ex_3"], 2, tmp_path / "t.parquet"), ["value"])
    batch = pa.RecordBatch.from_pydict(
        {"example_id": ["ex_3", "ex_9", "ex_1", "ex_2"], "value": ["v-ex_3", "new", "v-ex_1", "x"]}
    )
    (part,) = remembered_stream(upper, [batch], memo, workers, same=["value"])
    assert part.computed.column("example_id").to_pylist() == ["ex_9", "ex_2"]
    assert part.known.column("example_id").to_pylist() == ["ex_3", "ex_1"]
    remembered = pa.table(
        {"example_id": part.known.column("example_id"), "value": part.remembered.column("value")}
    )
    merged = in_input_order(part.example_ids, [part.computed, remembered])
    assert merged.column("value").to_pylist() == ["v-ex_3", "NEW", "v-ex_1", "X"]
    assert np.array_equal(memo.find(pa.array(["ex_2"])), [1])


def test_a_file_added_to_a_lane_is_the_only_one_read(tmp_path: Path) -> None:
    """The lane's first files are taken over from its last ingest; its tables are a fresh one's."""
    lane = "mbpp-plus-reference"
    selection = f'key:"lanes/{lane}"'
    data_dir = copy_sample_data(tmp_path / "data")
    materialize_all(data_dir, selection)
    fresh_dir = copy_sample_data(tmp_path / "fresh")
    for folder in (data_dir, fresh_dir):
        add_repeated_lines(folder / "lanes" / lane)

    again = materialize_all(data_dir, selection)
    materialize_all(fresh_dir, selection)

    metadata = materialization_metadata(again, f"lanes/{lane}")
    assert (metadata["reused_previous_ingest"], metadata["files_taken_over"]) == (False, 2)
    assert metadata["files_read"] == 3
    tables = [f"warehouse/lanes/{lane}/{name}.parquet" for name in ("rows", "quarantine", "files")]
    assert [sha256(data_dir / t) for t in tables] == [sha256(fresh_dir / t) for t in tables]
    quarantined = pq.read_table(data_dir / tables[1]).to_pylist()
    added = [row["reason"] for row in quarantined if row["source_file"].endswith("-added.jsonl")]
    assert added == ["duplicate_line", "duplicate_line"]


def add_repeated_lines(lane_dir: Path) -> None:
    """A new last file holding the lane's first two lines again."""
    first = (lane_dir / "part-000.jsonl").read_bytes().splitlines(keepends=True)
    (lane_dir / "part-002-added.jsonl").write_bytes(b"".join(first[:2]))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
