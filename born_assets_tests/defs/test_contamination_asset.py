"""Contaminated rows must never reach a training release, and each must name its eval item.

Runs the real graph on the sample data, where the HumanEval lane is HumanEval itself and most
MBPP+ rows derive from MBPP's test split: both must be excluded with the fate `contaminated`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from born_assets.cli.main import main
from born_assets.defs.runner import failure_messages, materialize_release
from born_assets.layout import DataDir
from born_assets_tests.conftest import copy_sample_data


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = copy_sample_data(tmp_path_factory.mktemp("contamination") / "data")
    result = materialize_release(DataDir.at(data_dir), "v1")
    assert result.success, failure_messages(result)
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    assert checks[("contamination", "no_generator_overlap")]
    assert all(v for k, v in checks.items() if k[0] == "contamination")
    return data_dir


def test_humaneval_rows_are_contaminated_naming_the_eval_item(released: Path) -> None:
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT fate, stage, reason, detail FROM read_parquet(?) "
            "WHERE origin_id = 'humaneval-reference'",
            [str(released / "releases" / "v1" / "fates.parquet")],
        ).fetchall()
    assert len(rows) == 109
    assert {r[0] for r in rows} == {"contaminated"}
    assert all(r[3].startswith("humaneval/HumanEval/") for r in rows)


def test_no_contaminated_row_is_released(released: Path) -> None:
    with duckdb.connect() as con:
        ((leaked,),) = con.execute(
            "SELECT count(*) FROM read_parquet($shards) WHERE example_id IN "
            "(SELECT example_id FROM read_parquet($exits))",
            {
                "shards": str(released / "releases" / "v1" / "data" / "*.parquet"),
                "exits": str(released / "warehouse" / "contamination" / "exits.parquet"),
            },
        ).fetchall()
        ((excluded,),) = con.execute(
            "SELECT count(*) FROM read_parquet(?)",
            [str(released / "warehouse" / "contamination" / "exits.parquet")],
        ).fetchall()
    assert leaked == 0
    assert excluded >= 109 + 200  # all of HumanEval, most of MBPP+


def test_born_contamination_prints_the_report(released: Path, capsys) -> None:
    assert main(["--data-dir", str(released), "contamination"]) == 0
    out = capsys.readouterr().out
    line = next(
        x for x in out.splitlines() if x.startswith("humaneval") and "humaneval-reference" in x
    )
    assert line.split()[2:4] == ["109", "109"]
