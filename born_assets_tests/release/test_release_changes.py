"""What a release says changed since the one before: rows compared by id and whole content.

Two small release folders are written here as Parquet shards with a release.json, the way a
published release lays them out, so the comparison runs on real files without a build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.layout import DataDir, ReleaseDir
from born_assets.release.changes import changes_since_previous
from born_assets.release.diff import compared_shards, diff_releases

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SCHEMA = pa.schema(
    [
        ("example_id", pa.string()),
        ("origin_id", pa.string()),
        ("teacher_model", pa.string()),
        ("source_benchmark", pa.string()),
        ("prompt", pa.string()),
        ("response", pa.string()),
        ("curation_score", pa.float64()),
        ("messages", pa.list_(MESSAGE)),
    ]
)


def _row(example_id: str, origin: str, answer: str) -> dict[str, Any]:
    return {
        "example_id": example_id,
        "origin_id": origin,
        "teacher_model": "gpt-4o",
        "source_benchmark": "mbppplus",
        "prompt": f"task {example_id}",
        "response": "Plan: add.",
        "curation_score": 0.9,
        "messages": [
            {"role": "user", "content": f"task {example_id}"},
            {"role": "assistant", "content": answer},
        ],
    }


def _publish(
    data: DataDir, version: str, rows: list[dict[str, Any]], built_at: str, *more_shards: list
) -> Path:
    """A release folder whose shards hold `rows`, then each of `more_shards`' rows."""
    folder = data.releases / version
    (folder / ReleaseDir.DATA).mkdir(parents=True)
    shards = [rows, *more_shards]
    for index, shard in enumerate(shards):
        path = folder / ReleaseDir.shard_name(index, len(shards))
        pq.write_table(pa.Table.from_pylist(shard, SCHEMA), path)
    fates = pa.table({"source_file": ["f.jsonl"], "source_line": [1], "fate": ["released"]})
    pq.write_table(fates, folder / ReleaseDir.FATES)
    (folder / ReleaseDir.RELEASE_JSON).write_text(json.dumps({"built_at": built_at}))
    return folder


@pytest.fixture
def two_releases(tmp_path: Path) -> DataDir:
    """v1 and v2: one row kept as is, one whose nested message changed, one removed, one added."""
    data = DataDir.at(tmp_path)
    _publish(
        data,
        "v1",
        [_row("a", "lane-x", "1"), _row("b", "lane-x", "2"), _row("c", "lane-y", "3")],
        "2026-12-01T00:00:00Z",
    )
    _publish(
        data,
        "v2",
        [_row("a", "lane-x", "1"), _row("b", "lane-x", "2 (fixed)"), _row("d", "lane-y", "4")],
        "2026-12-02T00:00:00Z",
    )
    return data


def test_a_change_deep_in_a_message_counts_and_each_origin_is_named(two_releases: DataDir) -> None:
    with duckdb.connect() as con:
        changes = changes_since_previous(con, two_releases, "v2")
    assert changes.previous == "v1"
    assert changes.totals == {"added": 1, "removed": 1, "changed": 1}
    assert changes.by_origin == {"lane-x": {"changed": 1}, "lane-y": {"added": 1, "removed": 1}}
    assert changes.sentence() == (
        "since v1: 1 added, 1 changed, 1 removed rows (lane-x 1 changed; lane-y 1 added, 1 removed)"
    )
    with duckdb.connect() as con:
        full = diff_releases(con, two_releases.release("v1").path, two_releases.release("v2").path)
    assert full.totals == changes.totals


def test_the_first_release_has_nothing_to_compare_with(two_releases: DataDir) -> None:
    with duckdb.connect() as con:
        assert changes_since_previous(con, two_releases, "v1").sentence() == (
            "the first release: no earlier version to compare with"
        )


def test_counts_are_remembered_by_the_shards_content(two_releases: DataDir) -> None:
    with duckdb.connect() as con:
        first = changes_since_previous(con, two_releases, "v2")
    entries = list(two_releases.comparison_cache.rglob("*.json"))
    assert len(entries) == 1
    # A remembered entry is used as it is: prove it by planting a different count in it.
    planted = {"totals": {"added": 7}, "by_origin": {"lane-z": {"added": 7}}}
    entries[0].write_text(json.dumps(planted))
    with duckdb.connect() as con:
        assert changes_since_previous(con, two_releases, "v2").totals == {"added": 7}
    # A damaged entry is not trusted: the rows are compared again.
    entries[0].write_text(json.dumps({"totals": {"added": "seven"}, "by_origin": {}}))
    with duckdb.connect() as con:
        assert changes_since_previous(con, two_releases, "v2") == first
    # Other shard bytes make another key: the planted count is not reached.
    entries[0].write_text(json.dumps(planted))
    shard = two_releases.release("v2").path / ReleaseDir.shard_name(0, 1)
    rows = pq.read_table(shard).to_pylist()[:2]
    pq.write_table(pa.Table.from_pylist(rows, SCHEMA), shard)
    with duckdb.connect() as con:
        again = changes_since_previous(con, two_releases, "v2")
    assert again.totals == {"changed": 1, "removed": 1}


def test_the_row_level_diff_is_written_whole_beside_nothing_else(
    two_releases: DataDir, tmp_path: Path
) -> None:
    out = tmp_path / "diffs" / "v1-v2.parquet"
    old, new = two_releases.release("v1").path, two_releases.release("v2").path
    with duckdb.connect() as con:
        diff_releases(con, old, new, out)
    assert pq.read_table(out).column("change").to_pylist() == ["changed", "removed", "added"]
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_shards_identical_in_both_releases_are_not_read(tmp_path: Path) -> None:
    """A shard copied from the release before holds the same rows: only the others are read."""
    data = DataDir.at(tmp_path)
    kept = [_row("k1", "lane-k", "1"), _row("k2", "lane-k", "2")]
    _publish(data, "v1", kept, "2026-12-01T00:00:00Z", [_row("a", "lane-x", "1")])
    _publish(data, "v2", kept, "2026-12-02T00:00:00Z", [_row("a", "lane-x", "1!")])
    _publish(
        data,
        "v3",
        kept,
        "2026-12-03T00:00:00Z",
        [_row("a", "lane-x", "1!")],
        [_row("n", "lane-n", "")],
    )
    old, new, newer = (data.release(v).path for v in ("v1", "v2", "v3"))
    old_shards, new_shards = compared_shards(old, new)
    assert [Path(p).name for p in old_shards] == [ReleaseDir.shard_name(1, 2).split("/")[1]]
    assert [Path(p).name for p in new_shards] == [ReleaseDir.shard_name(1, 2).split("/")[1]]
    # The identical shard's rows would count as removed and added if it were read on one side.
    with duckdb.connect() as con:
        assert changes_since_previous(con, data, "v2").by_origin == {"lane-x": {"changed": 1}}
        # Every shard of v2 is in v3 (under other names): nothing of v2 is read.
        assert compared_shards(new, newer)[0] == []
        assert changes_since_previous(con, data, "v3").totals == {"added": 1}
        # Nothing differs at all: nothing is read and nothing changed.
        assert compared_shards(newer, newer) == ([], [])
        assert diff_releases(con, newer, newer).totals == {}
        assert diff_releases(con, newer, new).totals == {"removed": 1}


def test_a_shard_repeated_on_one_side_is_matched_once(tmp_path: Path) -> None:
    data = DataDir.at(tmp_path)
    rows = [_row("a", "lane-x", "1")]
    old = _publish(data, "v1", rows, "2026-12-01T00:00:00Z")
    new = _publish(data, "v2", rows, "2026-12-02T00:00:00Z", rows)
    old_shards, new_shards = compared_shards(old, new)
    assert (old_shards, len(new_shards)) == ([], 1)
