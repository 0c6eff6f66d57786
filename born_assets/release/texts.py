"""The released rows' texts, joined to their sorted lineage rows within bounded memory.

A release lists its rows sorted by `example_id`; the sanitized table holds the texts (prompt,
closure, messages, tools, transform history: about 10 KB a row) in input order. Sorting the
joined wide rows in DuckDB ran out of its memory limit at 100k rows (its sort could not spill
them), so the wide columns never enter DuckDB's sort:

1. DuckDB sorts the *narrow* rows (lineage, scores, verdicts), written to a scratch file.
2. Their ids cut the sorted order into buckets that each hold about `budget_bytes` of text.
3. One streamed pass over the sanitized texts (and the PII-redacted ones) writes each released
   row's texts to its bucket's scratch file.
4. Bucket by bucket, in order: the texts are sorted in memory, checked id for id against the
   narrow rows of that bucket, combined (a redacted text replaces the sanitized one) and yielded.

Memory holds the released ids (a narrow sorted array) and one bucket of texts; disk holds the
narrow rows and the texts once more, in the release's scratch folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TEXT_COLUMNS = ("prompt", "response", "messages", "tools", "post_processing")
"""Taken from the sanitized rows."""
REDACTED_COLUMNS = ("prompt", "response", "messages")
"""Taken from the PII-redacted rows where a row has one."""
REDACTION = "redaction"
"""Column of the narrow rows: the PII step's transform record (JSON), null where none."""
BUDGET_BYTES = 64 * 1024 * 1024
"""Texts per bucket (uncompressed): one bucket is held, sorted, at a time."""
_SCATTER_ROWS = 1_000
"""Rows per batch read while texts are sent to their buckets."""
_PENDING_BYTES = 32 * 1024 * 1024
"""Rows buffered across all buckets before they are written."""


class _BucketFiles:
    """One scratch Parquet file per bucket; rows are buffered up to `_PENDING_BYTES` in all."""

    def __init__(self, folder: Path, prefix: str, schema: pa.Schema, buckets: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._paths = [folder / f"{prefix}-{b:05d}.parquet" for b in range(buckets)]
        self._schema = schema
        self._writers: dict[int, pq.ParquetWriter] = {}
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
        parts = self._pending.pop(bucket)
        if bucket not in self._writers:
            self._writers[bucket] = pq.ParquetWriter(
                self._paths[bucket], self._schema, compression="lz4"
            )
        self._writers[bucket].write_table(pa.concat_tables(parts))

    def close(self) -> None:
        self._flush_all()
        for writer in self._writers.values():
            writer.close()

    def read(self, bucket: int) -> pa.Table:
        path = self._paths[bucket]
        return pq.read_table(path) if path.exists() else self._schema.empty_table()


def _ids(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.bytes_]:
    return pc.cast(array, pa.string()).to_numpy(zero_copy_only=False).astype("S")


def _schema(path: Path, columns: Iterable[str]) -> pa.Schema:
    schema = pq.read_schema(path)
    return pa.schema([schema.field(name) for name in ["example_id", *columns]])


def _text_bytes_per_row(path: Path, columns: Iterable[str]) -> float:
    metadata = pq.ParquetFile(path).metadata
    wanted = set(columns)
    total = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            column = row_group.column(index)
            if column.path_in_schema.split(".")[0] in wanted:
                total += column.total_uncompressed_size
    return total / max(1, metadata.num_rows)


def _scatter(
    path: Path,
    columns: tuple[str, ...],
    released: npt.NDArray[np.bytes_],
    starts: npt.NDArray[np.bytes_],
    files: _BucketFiles,
) -> None:
    """Stream `path`'s released rows (`example_id` + `columns`) into their buckets' files."""
    wanted = ["example_id", *columns]
    for batch in pq.ParquetFile(path).iter_batches(_SCATTER_ROWS, columns=wanted):
        ids = _ids(batch.column("example_id"))
        at = np.minimum(np.searchsorted(released, ids), len(released) - 1)
        keep = np.flatnonzero(released[at] == ids)
        if not len(keep):
            continue
        buckets = np.searchsorted(starts, ids[keep], side="right") - 1
        table = pa.Table.from_batches([batch]).take(pa.array(keep))
        for bucket in np.unique(buckets):
            files.add(int(bucket), table.filter(pa.array(buckets == bucket)))


def _combined(narrow: pa.Table, texts: pa.Table, redacted: pa.Table) -> pa.Table:
    """The narrow rows with their texts (texts sorted like `narrow`; redacted where redacted)."""
    texts = texts.take(pc.sort_indices(texts, [("example_id", "ascending")]))
    if texts.column("example_id") != narrow.column("example_id"):
        raise ValueError("release: a released row has no sanitized text, or more than one")
    where = pc.index_in(narrow.column("example_id"), value_set=redacted.column("example_id"))
    has = pc.is_valid(where)
    columns = {name: narrow.column(name) for name in narrow.column_names if name != REDACTION}
    for name in TEXT_COLUMNS:
        value = texts.column(name)
        if name in REDACTED_COLUMNS and redacted.num_rows:
            replaced = redacted.column(name).take(where)
            value = (
                pc.if_else(has, replaced, value)
                if name == "messages"
                else pc.coalesce(replaced, value)
            )
        columns[name] = value
    redaction = narrow.column(REDACTION)
    history = texts.column("post_processing")
    joined = pc.binary_join_element_wise(pc.utf8_slice_codeunits(history, 0, -1), redaction, ",")
    extended = pc.binary_join_element_wise(joined, pa.scalar("]"), "")
    columns["post_processing"] = pc.if_else(pc.is_null(redaction), history, extended)
    return pa.table(columns)


def _rebatched(tables: Iterable[pa.Table], rows: int) -> Iterator[pa.RecordBatch]:
    """The tables' rows in batches of exactly `rows` (the last may be shorter).

    Only each yielded batch is copied into one piece; the rows waiting stay slices of their
    tables.
    """
    pending: pa.Table | None = None
    for table in tables:
        pending = table if pending is None else pa.concat_tables([pending, table])
        while pending.num_rows >= rows:
            yield _one_batch(pending.slice(0, rows))
            pending = pending.slice(rows)
    if pending is not None and pending.num_rows:
        yield _one_batch(pending)


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    return table.combine_chunks().to_batches()[0]


def with_texts(
    narrow: Path,
    sanitized: Path,
    redacted: Path,
    scratch: Path,
    batch_rows: int,
    budget_bytes: int = BUDGET_BYTES,
) -> Iterator[pa.RecordBatch]:
    """The narrow rows (a Parquet file sorted by `example_id`, with `REDACTION`) with their texts.

    Yields batches of `batch_rows` rows in the narrow file's order, each with the narrow columns
    (but `REDACTION`) and `TEXT_COLUMNS`: the redacted prompt, response and messages where the
    PII step rewrote them, and its transform appended to `post_processing`.

    Raises:
        ValueError: A narrow row has no sanitized row (or several).
    """
    released = _ids(pq.read_table(narrow, columns=["example_id"]).column(0))
    if not len(released):
        return
    per_row = _text_bytes_per_row(sanitized, TEXT_COLUMNS)
    bucket_rows = max(1, int(budget_bytes // max(per_row, 1.0)))
    starts = released[::bucket_rows]
    buckets = len(starts)
    texts = _BucketFiles(scratch, "texts", _schema(sanitized, TEXT_COLUMNS), buckets)
    fixes = _BucketFiles(scratch, "redacted", _schema(redacted, REDACTED_COLUMNS), buckets)
    try:
        _scatter(sanitized, TEXT_COLUMNS, released, starts, texts)
        _scatter(redacted, REDACTED_COLUMNS, released, starts, fixes)
    finally:
        texts.close()
        fixes.close()
    del released
    narrow_file = pq.ParquetFile(narrow)

    def joined() -> Iterator[pa.Table]:
        parts = (pa.Table.from_batches([b]) for b in narrow_file.iter_batches(batch_rows))
        for bucket, part in enumerate(_rebatched(parts, bucket_rows)):
            rows = pa.Table.from_batches([part])
            yield _combined(rows, texts.read(bucket), fixes.read(bucket))

    yield from _rebatched(joined(), batch_rows)
