"""The warehouse on disk: locks between runs, atomic publishing, and DuckDB connections.

Dagster-free: `born_assets.defs.resources.WarehouseResource` hands one of these to every step.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from born_assets.layout import DataDir
from born_assets.store.atomic import atomic_dir
from born_assets.store.parallel import worker_count
from born_assets.store.parquet import DEFAULT_BATCH_ROWS

DEFAULT_DUCKDB_MEMORY = "512MB"
"""DuckDB's memory per connection; sorts and joins beyond it spill to disk. With 1 GB, the
release's narrow sort of 1M rows took the build from ~800 MiB to 1,668 MiB of RSS."""


@dataclass(frozen=True)
class Warehouse:
    """Parquet tables under `<data dir>/warehouse/<asset key path>/`, queried with DuckDB."""

    data: DataDir
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY
    batch_rows: int = DEFAULT_BATCH_ROWS
    workers: int = 0

    def worker_count(self, inputs: Sequence[Path]) -> int:
        """Processes for a CPU-bound pass over `inputs` (one when they fit in one batch)."""
        rows = sum(pq.ParquetFile(path).metadata.num_rows for path in inputs)
        return worker_count(self.workers, -(-rows // self.batch_rows))

    @contextmanager
    def exclusive(self, shared: bool = False) -> Iterator[None]:
        """Hold the warehouse lock, across runs and processes.

        An OS lock (`flock`) on the warehouse's lock file. Exclusive (the default) for a step
        that reads warehouse tables and writes one, and for the release cut: one at a time.
        Shared for the ingest of a lane or an import, which reads only its own input files:
        sources ingest side by side, while no exclusive holder is reading or rewriting tables.
        The kernel drops the lock when its holder exits, even on `kill -9`, so a crashed run never
        leaves it held. Not re-entrant: take it once per step.
        """
        with _flock(self.data.warehouse_lock, shared):
            yield

    @contextmanager
    def publish(self, key_path: Sequence[str], source: bool = False) -> Iterator[Path]:
        """A staging folder that atomically becomes the asset's folder when the block completes.

        The warehouse lock is held throughout, so the step reads its inputs and swaps its
        output in while no other run rewrites a table. A `source` (a lane or an import) holds it
        shared, plus an exclusive lock of its own, so two runs never ingest one source at once.
        """
        own = self.data.source_lock(key_path)
        with (
            self.exclusive(shared=source),
            _flock(own, shared=False) if source else nullcontext(),
            atomic_dir(self.data.asset(key_path)) as staging,
        ):
            yield staging

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB connection for queries over the Parquet tables, closed on exit.

        Memory is capped (sorts and joins spill to a temporary folder in the warehouse), so a
        release over a large corpus stays within bounds instead of taking most of the machine.
        Each connection spills into a folder of its own, removed afterwards: DuckDB names its
        spill files by process id, which repeats across containers sharing one volume.
        """
        parent = self.data.spill
        parent.mkdir(parents=True, exist_ok=True)
        spill = Path(tempfile.mkdtemp(prefix=f"{socket.gethostname()}-{os.getpid()}-", dir=parent))
        config: dict[str, str | bool | int | float | list[str]] = {
            "threads": 2,
            "memory_limit": self.duckdb_memory_limit,
            "temp_directory": str(spill),
            # Without them DuckDB keeps the memory a query freed: after the release's sort of
            # 1M narrow rows, 1,200 MiB of RSS stayed held through the text join (345 with).
            "allocator_background_threads": True,
        }
        try:
            with duckdb.connect(config=config) as connection:
                yield connection
        finally:
            shutil.rmtree(spill, ignore_errors=True)


@contextmanager
def _flock(path: Path, shared: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:  # closing the file releases the lock
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
