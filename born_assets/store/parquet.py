"""The warehouse on disk: Parquet tables written in bounded batches and swapped in atomically.

Every table of an asset is written inside a fresh temporary folder next to the asset's folder;
when all of them are complete the folder is renamed into place. A crash at any moment leaves
either the old asset or the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.parquet as pq

from born_assets.schemas.tools import arrow_schema

PARQUET_COMPRESSION = "zstd"
PARQUET_COMPRESSION_LEVEL = 3
DEFAULT_BATCH_ROWS = 5_000
STALE_AFTER_S = 3600.0


class ParquetSink:
    """Buffers rows (dicts) and writes them to one Parquet file, `batch_rows` at a time.

    The Arrow schema comes from the Pandera model, so a row with a wrong type fails loudly here
    rather than producing a file that disagrees with its schema.
    """

    def __init__(
        self, path: Path, model: type[pa.DataFrameModel], batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> None:
        self.path = path
        self.schema = arrow_schema(model)
        self.batch_rows = batch_rows
        self.rows_written = 0
        self._buffer: list[dict[str, Any]] = []
        self._writer = pq.ParquetWriter(
            path,
            self.schema,
            compression=PARQUET_COMPRESSION,
            compression_level=PARQUET_COMPRESSION_LEVEL,
            write_statistics=True,
        )

    def append(self, row: dict[str, Any]) -> None:
        """Add one row; flushes a batch when the buffer is full."""
        self._buffer.append(row)
        if len(self._buffer) >= self.batch_rows:
            self.flush()

    def write_batch(self, batch: pa_arrow.RecordBatch | pa_arrow.Table) -> None:
        """Write an Arrow batch that already has this sink's columns."""
        self.flush()
        table = (
            pa_arrow.Table.from_batches([batch])
            if isinstance(batch, pa_arrow.RecordBatch)
            else batch
        )
        self._writer.write_table(table.select(self.schema.names).cast(self.schema))
        self.rows_written += table.num_rows

    def flush(self) -> None:
        """Write the buffered rows as one row group."""
        if not self._buffer:
            return
        batch = pa_arrow.RecordBatch.from_pylist(self._buffer, schema=self.schema)
        self._writer.write_batch(batch)
        self.rows_written += len(self._buffer)
        self._buffer.clear()

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


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh folder that becomes `target` only if the block completes.

    `target` is a symbolic link to a hidden versioned folder beside it; publishing a new version
    is one `rename` of a new link over the old one, which is atomic, so a reader (or a crash at
    any moment) sees the old asset or the new one, never half of one. On an exception the new
    folder is removed and the old asset stays untouched.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:16]}"
    staging.mkdir()
    try:
        yield staging
        fsync_dir(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = target.resolve() if target.is_symlink() else None
    link = target.parent / f".{target.name}.link-{uuid.uuid4().hex[:16]}"
    link.symlink_to(staging.name, target_is_directory=True)
    if target.exists() and not target.is_symlink():
        shutil.rmtree(target)
    link.replace(target)
    fsync_dir(target.parent)
    if previous is not None and previous != staging.resolve():
        shutil.rmtree(previous, ignore_errors=True)
    sweep_stale_staging(target)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (and its files) to disk."""
    for child in path.iterdir():
        if child.is_file() and not child.is_symlink():
            with child.open("rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sweep_stale_staging(target: Path, min_age_s: float = STALE_AFTER_S) -> None:
    """Remove versions of `target` that a crashed run left behind.

    Only entries untouched for `min_age_s` go, so a concurrent writer's folder is left alone.
    """
    live = target.resolve().name if target.is_symlink() else None
    cutoff = time.time() - min_age_s
    for child in target.parent.glob(f".{target.name}.*"):
        if child.name != live and child.lstat().st_mtime < cutoff:
            if child.is_symlink() or child.is_file():
                child.unlink(missing_ok=True)
            else:
                shutil.rmtree(child, ignore_errors=True)
