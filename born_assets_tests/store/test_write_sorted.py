"""Narrow rows sorted by id a range at a time: every row comes out once, in order."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.release.build import write_sorted_exits
from born_assets.schemas.derive import arrow_schema
from born_assets.schemas.fates import ExitRecord
from born_assets.store import texts
from born_assets.store.texts import write_sorted


@pytest.mark.parametrize("part_rows", [1, 7, 1_000])  # a range per row, several, one in all
@pytest.mark.parametrize("seed", range(3))
def test_rows_sorted_in_ranges_come_out_once_each_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, part_rows: int
) -> None:
    chooser = random.Random(seed)
    ids: list[str | None] = [f"ex_{chooser.getrandbits(12):03x}" for _ in range(60)]
    ids += [ids[5], ids[5], None, None]  # repeated ids (on a range's edge or not) and no id
    chooser.shuffle(ids)
    source = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"example_id": ids, "line": list(range(len(ids)))}), source)
    monkeypatch.setattr(texts, "SORT_PART_ROWS", part_rows)
    out = tmp_path / "scratch" / "narrow.parquet"
    out.parent.mkdir()
    query = "SELECT * FROM read_parquet($path) WHERE line >= $first"
    with duckdb.connect() as con:
        write_sorted(con, query, {"path": source.as_posix(), "first": 0}, out, batch_rows=5)
    got = pq.read_table(out).to_pylist()
    assert sorted(r["line"] for r in got) == list(range(len(ids)))  # each row once
    got_ids = [r["example_id"] for r in got]
    named = [i for i in got_ids if i is not None]
    assert named == sorted(named) and got_ids[len(named) :] == [None, None]  # no id: last
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # the unsorted copy is gone


def test_no_rows_give_a_file_with_the_query_s_columns(tmp_path: Path) -> None:
    out = tmp_path / "narrow.parquet"
    with duckdb.connect() as con:
        query = "SELECT 'ex_1' AS example_id, 3 AS line WHERE $never"
        write_sorted(con, query, {"never": False}, out, batch_rows=5)
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.column_names == ["example_id", "line"]


@pytest.mark.parametrize("rows", [0, 23])
def test_exits_go_sorted_into_their_table_and_leave_no_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    """`write_sorted_exits` streams the sorted ranges into the `ExitRecord` table directly."""
    monkeypatch.setattr(texts, "SORT_PART_ROWS", 4)
    ids = [f"ex_{n:02d}" for n in random.Random(rows).sample(range(100), rows)]
    query = (
        "SELECT 'lane' AS origin_kind, 'a' AS origin_id, 'lanes/a/part-000.jsonl' AS source_file, "
        "1 AS source_line, id AS example_id, 'withheld' AS fate, 'release' AS stage, "
        "'use' AS reason, '' AS detail FROM unnest($ids::VARCHAR[]) AS t(id)"
    )
    out = tmp_path / "withheld.parquet"
    with duckdb.connect() as con:
        write_sorted_exits(con, query, {"ids": ids}, out, batch_rows=5)
    table = pq.read_table(out)
    assert table.schema.equals(arrow_schema(ExitRecord), check_metadata=False)
    assert table.column("example_id").to_pylist() == sorted(ids)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
