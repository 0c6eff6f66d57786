"""A human verdict must change what a release holds.

Rejected rows never ship, and a use that requires review ships approved rows only, each naming
its reviewer; the verdicts are release inputs, so a new verdict needs a new version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from born_assets.defs.runner import failure_messages, materialize_release
from born_assets.layout import DataDir
from born_assets.release.publish import read_release_json
from born_assets.review.candidates import review_candidates, row_hashes
from born_assets.review.records import write_review_records
from born_assets.review.sheet import export_review_sheet
from born_assets.review.verdicts import import_review_sheet
from born_assets_tests.conftest import copy_sample_data
from born_assets_tests.review.test_review import fill

LANE = "mbpp-plus-reference"


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    data_dir = copy_sample_data(tmp_path_factory.mktemp("reviewed") / "data")
    result = materialize_release(DataDir.at(data_dir), "v1")
    assert result.success, failure_messages(result)
    with duckdb.connect() as con:
        rows = review_candidates(con, DataDir.at(data_dir), sample_n=2, lane=LANE, seed=1)
        sheet = export_review_sheet(
            rows, DataDir.at(data_dir).review_sheets, sample_n=2, lane=LANE, seed=1
        )
        filled = fill(sheet.csv_path, {0: "approved", 1: "rejected"})
        current = row_hashes(con, DataDir.at(data_dir), list(sheet.example_ids))
    records = import_review_sheet(
        sheet.csv_path, "alice@example.com", current, now=datetime(2026, 3, 1, tzinfo=UTC)
    )
    write_review_records(records, DataDir.at(data_dir).review_records)
    result = materialize_release(DataDir.at(data_dir), "v2")
    assert result.success, failure_messages(result)
    return data_dir, filled


def shard(data_dir: Path, version: str) -> pd.DataFrame:
    return pd.read_parquet(data_dir / "releases" / version / "data")


def test_a_rejected_row_is_withheld_and_an_approved_one_names_its_reviewer(
    reviewed: tuple[Path, list[dict[str, str]]],
) -> None:
    data_dir, filled = reviewed
    approved, rejected = filled[0]["example_id"], filled[1]["example_id"]
    v1, v2 = shard(data_dir, "v1"), shard(data_dir, "v2")
    assert rejected in set(v1["example_id"]) and rejected not in set(v2["example_id"])
    row = v2.set_index("example_id").loc[approved]
    assert (row["human_review_status"], row["reviewer_id"]) == ("approved", "alice@example.com")
    assert row["reviewed_at"] == pd.Timestamp("2026-03-01", tz="UTC")
    assert set(v2.drop(index=v2.index[v2["example_id"] == approved])["human_review_status"]) == {
        "unreviewed"
    }
    fates = pd.read_parquet(data_dir / "releases" / "v2" / "fates.parquet")
    fate = fates.set_index("example_id").loc[rejected]
    assert (fate["fate"], fate["reason"]) == ("withheld", "human_rejected")
    document = read_release_json(data_dir / "releases" / "v2")
    assert len(document["inputs"]["reviews"]) == 1
    assert document["rows"] == read_release_json(data_dir / "releases" / "v1")["rows"] - 1


def test_a_use_that_requires_review_releases_approved_rows_only(
    reviewed: tuple[Path, list[dict[str, str]]],
) -> None:
    data_dir, filled = reviewed
    policy = data_dir / "policy.yaml"
    policy.write_text(
        policy.read_text().replace("required_for: [eval]", "required_for: [eval, train]")
    )
    result = materialize_release(DataDir.at(data_dir), "v3")
    assert result.success, failure_messages(result)
    assert shard(data_dir, "v3")["example_id"].tolist() == [filled[0]["example_id"]]
    fates = pd.read_parquet(data_dir / "releases" / "v3" / "fates.parquet")
    assert (fates["reason"] == "review_required").sum() > 100
