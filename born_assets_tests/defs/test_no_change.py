"""A rebuild with no change computes and publishes nothing, and still re-verifies what it keeps.

Rebuilding an unchanged corpus should cost seconds, not a build: every step whose inputs are the
bytes it last saw keeps its published folder (the same link target) and says so in its metadata
(`inputs_unchanged`), and the checks still pass: those that read only warehouse tables give the
result they computed for the same content (`result_remembered`). An output rewritten behind the
step's back, even with the same rows, is not trusted: the step builds it again.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from born_assets.defs.checks import RESULT_REMEMBERED
from born_assets_tests.conftest import copy_sample_data
from born_assets_tests.graph import materialization_metadata, materialize_all

STEPS = ("sanitized", "gated", "deduplicated", "contamination", "executed", "pii", "row_fates")


def _targets(data_dir: Path) -> dict[str, Path]:
    return {step: (data_dir / "warehouse" / step).readlink() for step in STEPS}


def _remembered_checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    return {
        (e.asset_key.to_user_string(), e.check_name): bool(e.metadata[RESULT_REMEMBERED].value)
        for e in result.get_asset_check_evaluations()
        if RESULT_REMEMBERED in e.metadata and e.passed
    }


def test_a_rebuild_with_no_change_keeps_every_step_and_verifies_by_content(
    tmp_path: Path,
) -> None:
    data_dir = copy_sample_data(tmp_path / "data")
    first = materialize_all(data_dir)
    assert not any(materialization_metadata(first, s)["inputs_unchanged"] for s in STEPS)
    published = _targets(data_dir)

    again = materialize_all(data_dir)

    computed = _remembered_checks(first)
    assert ("sanitized", "no_hidden_reasoning") in computed
    assert ("lanes/mbpp-plus-reference", "rows_match_schema") in computed
    assert not any(computed.values())
    assert _remembered_checks(again) == dict.fromkeys(computed, True)
    assert all(materialization_metadata(again, s)["inputs_unchanged"] for s in STEPS)
    assert _targets(data_dir) == published
    for step in STEPS:
        kept = materialization_metadata(again, step)
        assert (
            kept["dagster/row_count"] == materialization_metadata(first, step)["dagster/row_count"]
        )

    gated = data_dir / "warehouse" / "gated" / "rows.parquet"
    pq.write_table(pq.read_table(gated), gated, compression="gzip")  # same rows, other bytes
    third = materialize_all(data_dir)
    assert not materialization_metadata(third, "gated")["inputs_unchanged"]
    assert materialization_metadata(third, "sanitized")["inputs_unchanged"]
    assert (
        pq.ParquetFile(data_dir / "warehouse" / "gated" / "rows.parquet")
        .metadata.row_group(0)
        .column(0)
        .compression
        == "ZSTD"
    )

    policy = data_dir / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("ngram_size: 13", "ngram_size: 12", 1), encoding="utf-8")
    fourth = materialize_all(data_dir)
    assert not materialization_metadata(fourth, "contamination")["inputs_unchanged"]
    assert materialization_metadata(fourth, "executed")["inputs_unchanged"]
