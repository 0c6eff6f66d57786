"""Gates and dedup through Dagster: every removal is named, and fates reconcile end to end.

The per-stage exits and the row_fates ledger must agree with what each stage kept: a row that a
gate rejected says which gate and threshold, a duplicate names its survivor, nothing is lost.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from born_assets_tests.conftest import input_lines
from born_assets_tests.graph import check_results, materialization_metadata, materialize_all


def table(data_dir: Path, asset: str, name: str = "rows.parquet") -> str:
    return str(data_dir / "warehouse" / asset / name)


def test_curation_checks_pass_and_fates_reconcile_across_the_graph(data_dir: Path) -> None:
    result = materialize_all(data_dir)
    checks = check_results(result)
    for key in [
        ("gated", "rows_reconcile"),
        ("deduplicated", "rows_reconcile"),
        ("deduplicated", "duplicates_name_their_survivor"),
        ("deduplicated", "rows_match_schema"),
    ]:
        assert checks[key], key
    assert all(checks.values()), [k for k, ok in checks.items() if not ok]
    with duckdb.connect() as con:
        fates = dict(
            con.execute(
                "SELECT fate, count(*) FROM read_parquet(?) GROUP BY fate",
                [table(data_dir, "row_fates", "row_fates.parquet")],
            ).fetchall()
        )
        survivors = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [table(data_dir, "deduplicated")]
        ).fetchone()
        gated_out = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [table(data_dir, "gated", "exits.parquet")]
        ).fetchone()
        duplicates = con.execute(
            "SELECT count(*) FROM read_parquet(?)",
            [table(data_dir, "deduplicated", "exits.parquet")],
        ).fetchone()
        tests_failed = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [table(data_dir, "executed", "exits.parquet")]
        ).fetchone()
    assert sum(fates.values()) == input_lines(data_dir)
    assert survivors is not None and tests_failed is not None
    # a survivor is accepted, contaminated, or gated out by its tests (the earlier stage wins)
    assert fates["accepted"] + fates.get("contaminated", 0) + tests_failed[0] == survivors[0]
    assert gated_out is not None and fates["gated_out"] == gated_out[0] + tests_failed[0]
    assert duplicates is not None and fates["duplicate"] == duplicates[0] > 0


def test_gated_out_rows_name_gate_reason_and_threshold(data_dir: Path) -> None:
    result = materialize_all(data_dir)
    meta = materialization_metadata(result, "gated")
    assert len(str(meta["policy_sha256"])) == 64
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT reason, detail FROM read_parquet(?)",
            [table(data_dir, "gated", "exits.parquet")],
        ).fetchall()
    assert rows
    for reason, detail in rows:
        assert reason and detail.startswith("gate=") and "threshold=" in detail


def test_deduplicated_has_unique_prompts_and_prefers_the_policy_order(data_dir: Path) -> None:
    materialize_all(data_dir)
    with duckdb.connect() as con:
        counts = con.execute(
            "SELECT count(*), count(DISTINCT prompt_hash) FROM read_parquet(?)",
            [table(data_dir, "deduplicated")],
        ).fetchone()
        # Exact duplicates: the survivor ranks first by dedup.survivor_order (score desc, lane
        # priority (all equal here), generation_timestamp asc, example_id asc).
        pairs = con.execute(
            "SELECT (-s.curation_score, st.generation_timestamp, s.example_id) "
            "    <= (-d.curation_score, dt.generation_timestamp, d.example_id), "
            "  d.example_id, s.example_id "
            "FROM read_parquet($exits) AS e "
            "JOIN read_parquet($gated) AS d ON d.example_id = e.example_id "
            "JOIN read_parquet($gated) AS s ON s.example_id = e.detail "
            "JOIN read_parquet($sources, union_by_name = true) AS dt "
            "  ON dt.example_id = d.example_id "
            "JOIN read_parquet($sources, union_by_name = true) AS st "
            "  ON st.example_id = s.example_id "
            "WHERE e.reason = 'duplicate_prompt'",
            {
                "exits": table(data_dir, "deduplicated", "exits.parquet"),
                "gated": table(data_dir, "gated"),
                "sources": [
                    str(data_dir / "warehouse" / kind / "*" / "rows.parquet")
                    for kind in ("lanes", "imports")
                ],
            },
        ).fetchall()
    assert counts is not None and counts[0] == counts[1]
    assert pairs
    assert [(dropped, survivor) for ranked, dropped, survivor in pairs if not ranked] == []


def test_a_bad_policy_fails_the_gate_naming_the_key(data_dir: Path) -> None:
    policy = data_dir / "policy.yaml"
    policy.write_text(policy.read_text().replace("version: 1", "version: 1\nsurprise: true", 1))
    with pytest.raises(Exception, match="policy.yaml: surprise"):
        materialize_all(data_dir, "gated")
