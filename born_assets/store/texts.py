"""Wide texts joined to narrow rows sorted by `example_id`, within bounded memory.

The sanitized table holds the texts (prompt, closure, messages, tools, transform history: about
10 KB a row) in input order. A DuckDB query that joins them to other tables and sorts the result
by `example_id` runs out of its memory limit from 100k rows on (its sort cannot spill rows that
wide). So the wide columns never enter DuckDB's sort:

1. DuckDB sorts the *narrow* rows (`write_sorted`, a range of ids at a time), into a scratch
   file.
2. Their ids cut the sorted order into buckets that each hold about `budget_bytes` of text.
3. One streamed pass over each text table writes each wanted row's texts to its bucket's file.
4. Bucket by bucket, in order, the texts are sorted in memory and handed over with the narrow
   rows of that bucket (`bucketed_texts`); `with_texts` attaches them, checked id for id.

Memory holds the wanted ids (a narrow sorted array) and one bucket of texts; disk holds the narrow
rows and the texts once more, in a scratch folder. A bucket's file is an Arrow IPC stream: an open
Parquet writer keeps encoder buffers of its own, and with one open per bucket (261 buckets at 1M
rows) the first fifth of the scatter held 600 MB more than with IPC streams, which hold none.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.store.memo import IdIndex, id_keys
from born_assets.store.parallel import read_ahead
from born_assets.store.parquet import parquet_reader

BUDGET_BYTES = 64 * 1024 * 1024
"""Texts per bucket (uncompressed): one bucket is held, sorted, at a time."""
_SCATTER_ROWS = 1_000
"""Rows per batch read while texts are sent to their buckets."""
_PENDING_BYTES = 32 * 1024 * 1024
"""Rows buffered across all buckets before they are written."""
_SCRATCH_OPTIONS = ipc.IpcWriteOptions(compression="lz4")


class _BucketFiles:
    """One scratch Arrow IPC stream per bucket; rows are buffered up to `_PENDING_BYTES` in all."""

    def __init__(self, folder: Path, prefix: str, schema: pa.Schema, buckets: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._paths = [folder / f"{prefix}-{b:05d}" for b in range(buckets)]
        self._schema = schema
        self._writers: dict[int, ipc.RecordBatchStreamWriter] = {}
        self._pending: dict[int, list[pa.Table]] = {}
        self._pending_bytes = 0

    def add(self, bucket: int, rows: pa.Table) -> None:
        self._pending.setdefault(bucket, []).append(rows)
        self._pending_bytes += rows.nbytes
        if self._pending_bytes >= _PENDING_BYTES:
            self._flush_all()

    def _flush_all(self) -> None:
        for bucket in list(self._pending):
            self._flush(bucket)
        self._pending_bytes = 0

    def _flush(self, bucket: int) -> None:
        """Write the bucket's pending rows as one record batch.

        Written as they come, a batch's few rows per bucket were each a record batch of their
        own, each compressed and later read on its own: with 261 buckets (as at 1M rows), the
        scatter of the 100k sanitized table took 15.1 s that way and 11.5 s with one per flush.
        """
        parts = self._pending.pop(bucket)
        if bucket not in self._writers:
            self._writers[bucket] = ipc.new_stream(
                str(self._paths[bucket]), self._schema, options=_SCRATCH_OPTIONS
            )
        self._writers[bucket].write_table(pa.concat_tables(parts).combine_chunks())

    def close(self) -> None:
        self._flush_all()
        for writer in self._writers.values():
            writer.close()

    def read(self, bucket: int) -> pa.Table:
        path = self._paths[bucket]
        if not path.exists():
            return self._schema.empty_table()
        with pa.OSFile(str(path)) as source:
            return ipc.open_stream(source).read_all()


def _schema(path: Path, columns: Iterable[str]) -> pa.Schema:
    schema = pq.read_schema(path)
    return pa.schema([schema.field(name) for name in ["example_id", *columns]])


def rows_within(path: Path, columns: Iterable[str], budget_bytes: float) -> int:
    """How many rows of the Parquet file at `path` hold about `budget_bytes` of `columns` (>= 1).

    Sized on the mean uncompressed bytes of those columns per row.
    """
    return max(1, int(budget_bytes // max(_text_bytes_per_row(path, columns), 1.0)))


def _text_bytes_per_row(path: Path, columns: Iterable[str]) -> float:
    """The mean uncompressed bytes of `columns` per row of the Parquet file at `path`."""
    metadata = pq.ParquetFile(path).metadata
    total = sum(
        group_text_bytes(metadata.row_group(g), columns) for g in range(metadata.num_row_groups)
    )
    return total / max(1, metadata.num_rows)


def group_text_bytes(row_group: pq.RowGroupMetaData, columns: Iterable[str]) -> int:
    """The uncompressed bytes of `columns` (nested ones whole) in one row group's metadata."""
    wanted = set(columns)
    return sum(
        row_group.column(c).total_uncompressed_size
        for c in range(row_group.num_columns)
        if row_group.column(c).path_in_schema.split(".")[0] in wanted
    )


def _scatter(
    path: Path,
    columns: tuple[str, ...],
    released: IdIndex,
    starts: npt.NDArray[np.bytes_],
    files: _BucketFiles,
) -> None:
    """Stream `path`'s released rows (`example_id` + `columns`) into their buckets' files.

    The ids are hashes, so a batch's rows fall in nearly every bucket: its rows are put in bucket
    order with one take and handed over as slices (a filter per bucket read the whole batch once
    per bucket: 261 times a batch at 1M rows).
    """
    for batch in read_ahead(_wanted_batches(path, ["example_id", *columns], released)):
        keep = np.flatnonzero(released.contains(batch.column("example_id")))
        if not len(keep):
            continue
        ids = id_keys(batch.column("example_id").take(pa.array(keep)))
        buckets = np.searchsorted(starts, ids, side="right") - 1
        order = np.argsort(buckets, kind="stable")  # one take, then a slice per bucket
        table = pa.Table.from_batches([batch]).take(pa.array(keep[order]))
        buckets = buckets[order]
        bounds = [0, *(np.flatnonzero(np.diff(buckets)) + 1).tolist(), len(buckets)]
        for start, end in itertools.pairwise(bounds):
            files.add(int(buckets[start]), table.slice(start, end - start))


def _wanted_batches(path: Path, columns: list[str], released: IdIndex) -> Iterator[pa.RecordBatch]:
    """`columns` of the row groups of `path` that hold a released row, batch by batch."""
    reader = parquet_reader(path)
    for group in range(reader.num_row_groups):
        if not released.contains(reader.read_row_group(group, ["example_id"]).column(0)).any():
            continue  # a row group none of whose rows is wanted: its texts are not read
        yield from reader.iter_batches(_SCATTER_ROWS, row_groups=[group], columns=columns)


def rebatched(tables: Iterable[pa.Table], rows: int) -> Iterator[pa.RecordBatch]:
    """The tables' rows in batches of exactly `rows` (the last may be shorter).

    A batch whose rows span two tables is copied into one piece; any other batch is a slice of
    its table, and a pickled slice carries the whole table's buffers: send a worker a copy.
    """
    pending: pa.Table | None = None
    for table in tables:
        pending = table if pending is None else pa.concat_tables([pending, table])
        while pending.num_rows >= rows:
            yield _one_batch(pending.slice(0, rows))
            pending = pending.slice(rows)
    if pending is not None and pending.num_rows:
        yield _one_batch(pending)


def merge_sorted(
    left: Iterable[pa.RecordBatch], right: Iterable[pa.RecordBatch], rows: int
) -> Iterator[pa.RecordBatch]:
    """Two streams, each sorted by `example_id` (no id in both), as one, in batches of `rows`.

    Both streams have the same columns; memory holds about one batch of each.
    """
    sides = [iter(left), iter(right)]
    pending: list[pa.Table | None] = [None, None]

    def refill(side: int) -> None:
        table = pending[side]
        while table is None or not table.num_rows:
            batch = next(sides[side], None)
            if batch is None:
                pending[side] = None
                return
            table = pa.Table.from_batches([batch])
        pending[side] = table

    def merged() -> Iterator[pa.Table]:
        while True:
            refill(0)
            refill(1)
            live = [table for table in pending if table is not None]
            if len(live) < 2:
                if live:
                    yield live[0]
                    pending[0] = pending[1] = None
                    continue
                return
            # Every row up to the smaller of the two last ids can go: no later row sorts before it.
            bound = min(table.column("example_id")[-1].as_py() for table in live)
            parts = []
            for side, table in enumerate(live):
                count = pc.sum(pc.less_equal(table.column("example_id"), bound)).as_py() or 0
                parts.append(table.slice(0, count))
                pending[side] = table.slice(count)
            joined = pa.concat_tables(parts)
            yield joined.take(pc.sort_indices(joined, [("example_id", "ascending")]))

    yield from rebatched(merged(), rows)


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    return table.combine_chunks().to_batches()[0]


def sorted_parts(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: dict[str, Any],
    unsorted: Path,
    batch_rows: int,
) -> Iterator[pa.RecordBatchReader]:
    """The narrow rows of `query`, sorted by `example_id`: a reader per range of ids, in order.

    The query runs once, its rows written unsorted to the scratch file `unsorted` (its joins
    alone in DuckDB's memory; the file is removed when the stream ends). DuckDB then sorts them
    one range of ids at a time, each of about `SORT_PART_ROWS` rows: its sort holds about all
    it sorts. There is always one range at least, so the first reader gives the rows' schema.
    """
    con.execute(
        f"COPY ({query}) TO $unsorted (FORMAT parquet)", {**params, "unsorted": str(unsorted)}
    )
    try:
        rows = {"rows": unsorted.as_posix()}
        found = con.execute(_PART_BOUNDS_SQL, {**rows, "part": SORT_PART_ROWS}).fetchall()
        bounds = [bound for (bound,) in found]
        for low, high in zip([None, *bounds], [*bounds, None], strict=True):
            part = {**rows, "low": low, "high": high}
            yield con.sql(_PART_SQL, params=part).to_arrow_reader(batch_rows)
    finally:
        unsorted.unlink(missing_ok=True)


def write_sorted(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any], path: Path, batch_rows: int
) -> None:
    """The narrow rows of `query`, sorted by `example_id` (`sorted_parts`), written to `path`."""
    parts = sorted_parts(con, query, params, path.with_name(path.name + _UNSORTED), batch_rows)
    first = next(parts)
    with pq.ParquetWriter(path, first.schema, compression="lz4") as writer:
        for reader in itertools.chain([first], parts):
            for batch in reader:
                writer.write_batch(batch)


SORT_PART_ROWS = 100_000
"""Rows DuckDB sorts at once in `sorted_parts`. Its sort holds about what it sorts: 968,580 narrow
release rows, sorted in one go, ran out of 128, 192 and 256 MB (and, after the query's joins, of
the 512 MB a connection has, at 1M rows); in ranges of 100,000 they sorted within 128 MB."""
_UNSORTED = ".unsorted"
_PART_BOUNDS_SQL = """
SELECT DISTINCT example_id FROM (
    SELECT example_id, row_number() OVER (ORDER BY example_id) AS n
    FROM read_parquet($rows) WHERE example_id IS NOT NULL
)
WHERE n % $part = 1 AND n > 1
ORDER BY example_id
"""
"""The first id of every range after the first: every `$part`-th id in order."""
_PART_SQL = """
SELECT * FROM read_parquet($rows)
WHERE coalesce(example_id >= $low, $low IS NULL OR example_id IS NULL)
  AND coalesce(example_id < $high, $high IS NULL)
ORDER BY example_id
"""
"""The rows of the range [$low, $high) in order (NULL: no bound); a row without id, in the last."""


def bucketed_texts(
    narrow: Path,
    texts: Sequence[tuple[Path, Sequence[str]]],
    scratch: Path,
    batch_rows: int,
    budget_bytes: int = BUDGET_BYTES,
) -> Iterator[tuple[pa.Table, list[pa.Table]]]:
    """Per bucket, in order: the narrow rows, and each text table's rows for them, sorted.

    Args:
        narrow: Parquet file with `example_id`, sorted by it.
        texts: (Parquet file, columns) pairs; each file has `example_id` and the columns, in any
            order. A file may lack some ids (the caller decides what that means).
        scratch: A folder for the buckets' files (the caller removes it).
        batch_rows: Rows per batch read from `narrow`.
        budget_bytes: Text per bucket, sized on the first file's uncompressed column sizes.
    """
    ids = pq.read_table(narrow, columns=["example_id"]).column(0)
    if not len(ids):
        return
    first, first_columns = texts[0]
    bucket_rows = rows_within(first, first_columns, budget_bytes)
    starts = id_keys(ids.take(pa.array(range(0, len(ids), bucket_rows))))  # ids are sorted
    released = IdIndex(ids)
    del ids
    files = []
    for number, (path, columns) in enumerate(texts):
        bucket_files = _BucketFiles(scratch, f"texts{number}", _schema(path, columns), len(starts))
        try:
            _scatter(path, tuple(columns), released, starts, bucket_files)
        finally:
            bucket_files.close()
        files.append(bucket_files)
    del released
    parts = (pa.Table.from_batches([b]) for b in parquet_reader(narrow).iter_batches(batch_rows))
    for bucket, part in enumerate(rebatched(parts, bucket_rows)):
        tables = [f.read(bucket) for f in files]
        yield (
            pa.Table.from_batches([part]),
            [t.take(pc.sort_indices(t, [("example_id", "ascending")])) for t in tables],
        )


def attach(narrow: pa.Table, texts: pa.Table) -> pa.Table:
    """The narrow rows with the text columns (`texts` sorted like `narrow`, one row each).

    Raises:
        ValueError: The ids differ: a narrow row has no text row, or more than one.
    """
    if texts.column("example_id") != narrow.column("example_id"):
        raise ValueError("a row has no sanitized text, or more than one")
    columns = {name: narrow.column(name) for name in narrow.column_names}
    columns.update(
        {name: texts.column(name) for name in texts.column_names if name != "example_id"}
    )
    return pa.table(columns)


def with_texts(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: dict[str, Any],
    texts: Path,
    columns: Sequence[str],
    scratch: Path,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    """The rows of a narrow `query`, sorted by `example_id`, with `columns` of `texts`.

    Batches of exactly `batch_rows` rows (the last may be shorter); the scratch files live in
    `scratch` (removed by the caller).
    """
    narrow = scratch / layout.SCRATCH_NARROW
    write_sorted(con, query, params, narrow, batch_rows)
    joined = (
        attach(part, found)
        for part, (found,) in bucketed_texts(narrow, [(texts, columns)], scratch, batch_rows)
    )
    yield from rebatched(joined, batch_rows)


def with_texts_where(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: dict[str, Any],
    texts: Path,
    columns: Sequence[str],
    wanted: Callable[[pa.RecordBatch], pa.Array],
    scratch: Path,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    """Like `with_texts`, but only the rows `wanted` picks get their texts; the others get nulls.

    `wanted` maps a batch of the narrow rows to one boolean per row. Only the wanted rows' texts
    are read from `texts` (none at all when no row is wanted); both kinds come back in one stream
    sorted by `example_id`, in batches of `batch_rows`.
    """
    narrow = scratch / layout.SCRATCH_NARROW
    write_sorted(con, query, params, narrow, batch_rows)
    schema = pq.read_schema(narrow)
    chosen, others = scratch / layout.SCRATCH_WANTED, scratch / layout.SCRATCH_OTHERS
    with (
        pq.ParquetWriter(chosen, schema, compression="lz4") as yes,
        pq.ParquetWriter(others, schema, compression="lz4") as no,
    ):
        for batch in parquet_reader(narrow).iter_batches(batch_rows):
            mask = wanted(batch)
            yes.write_batch(batch.filter(mask))
            no.write_batch(batch.filter(pc.invert(mask)))
    text_fields = [f.with_nullable(True) for f in _schema(texts, columns)][1:]
    whole = pa.schema([*schema, *text_fields])

    def shaped(table: pa.Table) -> pa.Table:
        for field in text_fields:
            if field.name not in table.column_names:
                table = table.append_column(field, pa.nulls(table.num_rows, field.type))
        return table.select(whole.names).cast(whole)

    read = (
        shaped(attach(part, part_texts))
        for part, (part_texts,) in bucketed_texts(chosen, [(texts, columns)], scratch, batch_rows)
    )
    rest = (
        shaped(pa.Table.from_batches([b])) for b in parquet_reader(others).iter_batches(batch_rows)
    )
    yield from merge_sorted(
        (_one_batch(t) for t in read if t.num_rows),
        (_one_batch(t) for t in rest if t.num_rows),
        batch_rows,
    )
