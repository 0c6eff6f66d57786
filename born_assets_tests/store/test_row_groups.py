"""Row groups copied as bytes: the file is the one pyarrow's own writer gives the same groups.

The tables here have the column kinds the warehouse writes (strings, integers, floats, bools,
timestamps, nulls, nested lists of structs), more than 15 columns and more than 15 row groups,
so the footer's long forms are met too.
"""

from __future__ import annotations

import gc
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.store.memo import RowMemo
from born_assets.store.parquet import WRITER_OPTIONS
from born_assets.store.row_groups import GroupWriter, ParquetGroups

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
GROUP_ROWS = 7
GROUPS = 18


def _table(rows: int, salt: str = "") -> pa.Table:
    columns: dict[str, pa.Array] = {
        "example_id": pa.array([f"ex_{i:04d}" for i in range(rows)]),
        "text": pa.array([f"row {i} {salt} " * (i % 5) for i in range(rows)]),
        "maybe": pa.array([None if i % 3 else f"m{i}" for i in range(rows)]),
        "count": pa.array(range(rows), pa.int64()),
        "score": pa.array([i / 7 for i in range(rows)], pa.float64()),
        "flag": pa.array([i % 2 == 0 for i in range(rows)]),
        "at": pa.array([datetime(2026, 12, 7, tzinfo=UTC)] * rows, pa.timestamp("us", tz="UTC")),
        "messages": pa.array(
            [[{"role": "user", "content": f"q{i}"}] * (i % 3) for i in range(rows)],
            pa.list_(MESSAGE),
        ),
    }
    columns |= {f"extra_{n:02d}": pa.array([n * i for i in range(rows)]) for n in range(12)}
    return pa.table(columns)


def _groups(table: pa.Table) -> list[pa.Table]:
    return [table.slice(start, GROUP_ROWS) for start in range(0, table.num_rows, GROUP_ROWS)]


def _pyarrow_file(path: Path, groups: list[pa.Table], schema: pa.Schema) -> Path:
    with pq.ParquetWriter(path, schema, **WRITER_OPTIONS) as writer:
        for group in groups:
            writer.write_table(group)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_encoded_copied_and_mixed_groups_give_pyarrows_bytes(tmp_path: Path) -> None:
    table = _table(GROUP_ROWS * GROUPS - 3)  # the last group is short
    groups = _groups(table)
    expected = _pyarrow_file(tmp_path / "pyarrow.parquet", groups, table.schema)

    encoded = GroupWriter(tmp_path / "encoded.parquet", table.schema, **WRITER_OPTIONS)
    for group in groups:
        encoded.write_table(group)
    encoded.close()
    assert sha256(encoded.path) == sha256(expected)

    source = ParquetGroups(expected)
    assert len(source) == GROUPS
    mixed = GroupWriter(tmp_path / "mixed.parquet", table.schema, **WRITER_OPTIONS)
    for index, group in enumerate(groups):
        if index % 3 == 1:
            mixed.write_table(group)
        else:
            mixed.copy(source, index)
    mixed.close()
    assert sha256(mixed.path) == sha256(expected)
    assert pq.read_table(mixed.path).equals(table)


def test_groups_copied_into_other_places_read_back_as_their_rows(tmp_path: Path) -> None:
    """Groups taken out of order and from two files land at other offsets than they had."""
    first, second = _table(GROUP_ROWS * 4), _table(GROUP_ROWS * 4, salt="other")
    one = ParquetGroups(_pyarrow_file(tmp_path / "one.parquet", _groups(first), first.schema))
    two = ParquetGroups(_pyarrow_file(tmp_path / "two.parquet", _groups(second), first.schema))
    writer = GroupWriter(tmp_path / "out.parquet", first.schema, **WRITER_OPTIONS)
    picks = [(two, 3), (one, 0), (two, 1), (one, 3)]
    for source, index in picks:
        writer.copy(source, index)
    writer.close()
    tables = {id(one): first, id(two): second}
    expected = pa.concat_tables(
        tables[id(source)].slice(index * GROUP_ROWS, GROUP_ROWS) for source, index in picks
    )
    read = pq.ParquetFile(writer.path)
    assert read.metadata.num_row_groups == len(picks)
    assert read.read().equals(expected)
    assert read.read_row_group(2).equals(second.slice(GROUP_ROWS, GROUP_ROWS))


def test_a_file_of_no_rows_is_pyarrows(tmp_path: Path) -> None:
    schema = _table(1).schema
    writer = GroupWriter(tmp_path / "empty.parquet", schema, **WRITER_OPTIONS)
    writer.close()
    assert sha256(writer.path) == sha256(_pyarrow_file(tmp_path / "pa.parquet", [], schema))


def test_another_schema_or_a_footer_it_cannot_move_is_refused(tmp_path: Path) -> None:
    table = _table(GROUP_ROWS * 2)
    writer = GroupWriter(tmp_path / "out.parquet", table.schema, **WRITER_OPTIONS)
    narrower = table.drop_columns(["flag"])
    other = ParquetGroups(_pyarrow_file(tmp_path / "n.parquet", _groups(narrower), narrower.schema))
    assert not writer.accepts(other)
    with pytest.raises(ValueError, match="schema"):
        writer.copy(other, 0)
    indexed = tmp_path / "indexed.parquet"
    pq.write_table(
        table, indexed, row_group_size=GROUP_ROWS, write_page_index=True, **WRITER_OPTIONS
    )
    with pytest.raises(ValueError, match="outside its row group"):
        ParquetGroups(indexed)
    assert ParquetGroups.open(indexed) is None  # a step then encodes the rows instead
    writer.close()


def test_a_cut_file_is_not_read_as_groups(tmp_path: Path) -> None:
    table = _table(GROUP_ROWS * 2)
    path = _pyarrow_file(tmp_path / "t.parquet", _groups(table), table.schema)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="not a whole Parquet file"):
        ParquetGroups(path)
    assert ParquetGroups.open(path) is None


def test_the_memo_names_a_group_only_when_the_rows_are_that_group(tmp_path: Path) -> None:
    table = _table(GROUP_ROWS * 3)
    path = _pyarrow_file(tmp_path / "t.parquet", _groups(table), table.schema)
    memo = RowMemo(path, ["text", "messages"])  # the other columns come from the input
    group = table.slice(GROUP_ROWS, GROUP_ROWS)
    assert memo.whole_group(group) == 1
    assert memo.whole_group(group.slice(1)) is None  # part of a group
    assert memo.whole_group(table.slice(GROUP_ROWS - 1, GROUP_ROWS)) is None  # across two
    assert memo.whole_group(group.take(pa.array(np.arange(GROUP_ROWS)[::-1]))) is None
    moved = group.set_column(
        group.schema.get_field_index("count"), "count", pa.array(range(100, 100 + GROUP_ROWS))
    )
    assert memo.whole_group(moved) is None  # an input column differs from the remembered one
    unknown = group.set_column(0, "example_id", pa.array([f"new_{i}" for i in range(GROUP_ROWS)]))
    assert memo.whole_group(unknown) is None


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was_after_a_footer_is_read(
    tmp_path: Path, enabled: bool
) -> None:
    """Decoding a footer holds the cyclic collector off, and gives it back as it found it."""
    table = _table(GROUP_ROWS * 2)
    path = _pyarrow_file(tmp_path / "one.parquet", _groups(table), table.schema)
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        groups = ParquetGroups(path)
        groups.group(1)
        assert gc.isenabled() is enabled
        assert ParquetGroups.open(_cut(path, tmp_path / "cut.parquet")) is None  # refused too
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def _cut(path: Path, to: Path) -> Path:
    """`path` with its footer's bytes changed: read back, they give other bytes."""
    data = bytearray(path.read_bytes())
    length = int.from_bytes(data[-8:-4], "little")
    data[-8 - length] ^= 0xFF  # the footer's first byte
    to.write_bytes(bytes(data))
    return to


def test_a_footer_damaged_anywhere_is_refused_or_read_never_a_crash(tmp_path: Path) -> None:
    """Every fifth byte of a footer changed in turn: the file opens as groups, or `open` says None.

    Most changes keep a footer that decodes (a byte of a name or a statistic); the others give
    a value cut short, a missing list, a number where a struct was: each refused, not raised.
    """
    table = _table(GROUP_ROWS * 2)
    path = _pyarrow_file(tmp_path / "one.parquet", _groups(table), table.schema)
    data = path.read_bytes()
    length = int.from_bytes(data[-8:-4], "little")
    damaged = tmp_path / "damaged.parquet"
    refused = 0
    for at in range(len(data) - 8 - length, len(data) - 8, 5):
        changed = bytearray(data)
        changed[at] ^= 0xFF
        damaged.write_bytes(bytes(changed))
        refused += ParquetGroups.open(damaged) is None
    assert refused > 0
