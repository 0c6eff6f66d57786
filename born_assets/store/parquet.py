"""Parquet tables written and read in bounded batches, typed by the Pandera models.

Importing this module also has Arrow allocate from jemalloc (`use_returning_allocator`), so that
memory a streaming step frees goes back to the system instead of piling up.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.parquet as pq

from born_assets.schemas.derive import arrow_schema
from born_assets.store.parallel import read_ahead
from born_assets.store.progress import Progress, counted
from born_assets.store.row_groups import GroupWriter, ParquetGroups

WRITER_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "write_statistics": True,
}
"""The settings every warehouse table and release shard is written with (their bytes depend
on them)."""
SCRATCH_OPTIONS: dict[str, Any] = {
    "compression": "lz4",
    "use_dictionary": False,
    "write_statistics": False,
}
"""The settings of a scratch file a step writes and reads back in order once: written and read
fastest (the gates' 110k verdicts: 0.10 s written, 0.05 s read, against 0.28 and 0.12 with the
tables' settings)."""
DEFAULT_BATCH_ROWS = 1_000
"""Rows per row group and per in-memory batch. A batch's rows live several times over while it is
in flight (Arrow, Python objects, pickles to and from a worker), so this, not the data size, sets
the peak memory: at 100k rows `sanitize` peaked at 1.4 GB with 5,000 and 0.6 GB with 1,000, at
the same speed (docs/performance.md)."""
MEMORY_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


def use_returning_allocator() -> str:
    """Have Arrow allocate from jemalloc, which gives freed memory back; returns the pool's name.

    pyarrow's default here, mimalloc, keeps much of what a streaming step frees. Joining the
    texts of a 100k release, Arrow's live memory stayed at 0.4-0.5 GB while the process grew from
    0.9 to 1.4 GB with mimalloc and to 1.3 GB with the system allocator; with jemalloc it stayed
    at 0.75-0.87 GB (docs/performance.md). A pool named in `ARROW_DEFAULT_MEMORY_POOL` wins, and
    a pyarrow built without jemalloc keeps its default.
    """
    if MEMORY_POOL_ENV not in os.environ:
        with contextlib.suppress(NotImplementedError):  # a build without jemalloc
            pa_arrow.set_memory_pool(pa_arrow.jemalloc_memory_pool())
    return str(pa_arrow.default_memory_pool().backend_name)


use_returning_allocator()  # on import: every process that streams tables imports this module


def parquet_reader(path: Path) -> pq.ParquetFile:
    """`path` opened to be read batch by batch, holding no more than the batch in hand.

    pyarrow's default (`pre_buffer=True`) keeps what it pre-buffered of every row group read so far
    until the file is closed: the first 400 row groups (1,000 rows each) of a 1M-row sanitized
    table held 786 MB, against 246 MB without it, and at 1M rows each step that streamed a table
    grew past 3 GB (docs/performance.md).
    """
    return pq.ParquetFile(path, pre_buffer=False)


class ParquetSink:
    """Buffers rows (dicts or Arrow) and writes them to one Parquet file, `batch_rows` at a time.

    The Arrow schema comes from the Pandera model, so a row with a wrong type fails loudly here
    rather than producing a file that disagrees with its schema.
    With `copies`, whole row groups of another file can be copied in as bytes
    (`copy_row_group`); each group it encodes then costs a few milliseconds more
    (`store.row_groups`), so only a step that carries most of its rows asks for it.
    """

    def __init__(
        self,
        path: Path,
        model: type[pa.DataFrameModel],
        batch_rows: int = DEFAULT_BATCH_ROWS,
        copies: bool = False,
    ) -> None:
        self.path = path
        self.schema = arrow_schema(model)
        self.batch_rows = batch_rows
        self.rows_written = 0
        self.row_groups_copied = 0
        self._buffer: list[dict[str, Any]] = []
        self._held: list[pa_arrow.Table] = []  # rows before those in `_buffer`, in order
        self._held_rows = 0
        self._writer: GroupWriter | pq.ParquetWriter = (
            GroupWriter(path, self.schema, **WRITER_OPTIONS)
            if copies
            else pq.ParquetWriter(path, self.schema, **WRITER_OPTIONS)
        )

    def append(self, row: dict[str, Any]) -> None:
        """Add one row; a full batch is written as a row group."""
        self._buffer.append(row)
        if self._held_rows + len(self._buffer) >= self.batch_rows:
            self.flush()

    def extend(self, rows: pa_arrow.RecordBatch | pa_arrow.Table) -> None:
        """Add Arrow rows that have this sink's columns, as `append` would add them one by one.

        The row groups are the same `batch_rows` whatever batches the rows came in, so rows
        taken from a table written before give the bytes they gave then.
        """
        self._hold_buffer()
        table = pa_arrow.table(rows) if isinstance(rows, pa_arrow.RecordBatch) else rows
        self._held.append(table.select(self.schema.names).cast(self.schema))
        self._held_rows += table.num_rows
        if self._held_rows >= self.batch_rows:
            self._write_held(whole_groups=True)

    def write_batch(self, batch: pa_arrow.RecordBatch | pa_arrow.Table) -> None:
        """Write an Arrow batch that already has this sink's columns, as one row group.

        A table is written as one chunk per column: Parquet's pages follow the chunks, and the
        bytes must not depend on how the rows were put together (remembered rows come as slices
        of the memo's row groups, new ones as a table of their own).
        """
        self.flush()
        table = (
            pa_arrow.Table.from_batches([batch])
            if isinstance(batch, pa_arrow.RecordBatch)
            else batch.combine_chunks()
        )
        self._writer.write_table(table.select(self.schema.names).cast(self.schema))
        self.rows_written += table.num_rows

    def copy_row_group(self, source: ParquetGroups, index: int) -> None:
        """Write row group `index` of `source` (a file of this sink's schema) as its bytes.

        The rows held before are written first, so the rows stay in the order they came.
        """
        if not isinstance(self._writer, GroupWriter):
            raise ValueError(f"{self.path}: opened without copies")
        self.flush()
        self._writer.copy(source, index)
        self.rows_written += source.num_rows(index)
        self.row_groups_copied += 1

    @property
    def holds_rows(self) -> bool:
        """Whether rows wait to be written (a copied group would close their row group early)."""
        return bool(self._held_rows or self._buffer)

    def can_copy(self, source: ParquetGroups) -> bool:
        """Whether `source`'s row groups can be copied here (opened with copies, same schema)."""
        return isinstance(self._writer, GroupWriter) and self._writer.accepts(source)

    def end_group(self, at_least: int) -> None:
        """End the row group being filled here if it holds `at_least` rows (at a file's end)."""
        if self._held_rows + len(self._buffer) >= at_least:
            self.flush()

    def flush(self) -> None:
        """Write the rows held so far as one row group."""
        self._hold_buffer()
        self._write_held(whole_groups=False)

    def _hold_buffer(self) -> None:
        if self._buffer:
            self._held.append(pa_arrow.Table.from_pylist(self._buffer, schema=self.schema))
            self._held_rows += len(self._buffer)
            self._buffer.clear()

    def _write_held(self, whole_groups: bool) -> None:
        """Write the held rows in row groups of `batch_rows`; the rest too unless `whole_groups`."""
        if not self._held_rows:
            return
        held = pa_arrow.concat_tables(self._held) if len(self._held) > 1 else self._held[0]
        held = held.combine_chunks()
        end = held.num_rows - held.num_rows % self.batch_rows if whole_groups else held.num_rows
        for start in range(0, end, self.batch_rows):
            self._writer.write_table(held.slice(start, self.batch_rows))
        self.rows_written += end
        rest = held.slice(end)
        self._held = [rest] if rest.num_rows else []
        self._held_rows = rest.num_rows

    def close(self) -> None:
        """Flush and close the file."""
        self.flush()
        self._writer.close()

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def row_group_rows(path: Path) -> int:
    """Rows in the first row group of the Parquet file at `path` (1 when it has none)."""
    metadata = pq.read_metadata(path)
    return metadata.row_group(0).num_rows if metadata.num_row_groups else 1


def iter_parquet_batches(
    paths: Iterable[Path],
    batch_rows: int,
    columns: list[str] | None = None,
    progress: str | None = None,
) -> Iterator[pa_arrow.RecordBatch]:
    """Record batches of at most `batch_rows` rows from the given Parquet files, in order.

    The next batch is decoded on a thread while the caller works on this one (`read_ahead`): a
    schema check spent a third of its time decoding before Pandera could start.
    With a `progress` label, the rows read are reported (`born_assets.store.progress`) against
    the files' row count.
    """
    paths = list(paths)
    batches = read_ahead(
        batch
        for path in paths
        for batch in parquet_reader(path).iter_batches(batch_size=batch_rows, columns=columns)
    )
    if progress is None:
        yield from batches
    else:
        total = sum(pq.read_metadata(path).num_rows for path in paths)
        yield from counted(batches, Progress(progress, total))
