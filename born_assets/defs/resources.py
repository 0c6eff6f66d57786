"""The one place that knows where things are stored: the data dir and the warehouse under it."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
from pydantic import Field

from born_assets.governance.erasure import ErasureFilter
from born_assets.specs.policy import Policy
from born_assets.store.parallel import worker_count
from born_assets.store.parquet import atomic_dir


class Warehouse(dg.ConfigurableResource):
    """Parquet tables under `<data_dir>/warehouse/<asset key path>/`, queried with DuckDB."""

    data_dir: str = Field(
        default="data",
        description="Root of the project's data: manifests, lanes, imports, warehouse, releases.",
    )
    duckdb_memory_limit: str = Field(
        default="1GB", description="DuckDB memory limit per connection; larger work spills."
    )
    batch_rows: int = Field(
        default=5_000, description="Rows per Parquet row group and per in-memory batch."
    )
    workers: int = Field(
        default=0,
        ge=0,
        description=(
            "Processes for the CPU-bound stages (closure rewrite, gates); 0 = one per CPU. "
            "Output bytes do not depend on it."
        ),
    )

    @property
    def root(self) -> Path:
        """The data dir as an absolute path."""
        return Path(self.data_dir).resolve()

    def asset_dir(self, key: dg.AssetKey | Sequence[str]) -> Path:
        """Folder holding an asset's tables."""
        parts = key.path if isinstance(key, dg.AssetKey) else list(key)
        return self.root.joinpath("warehouse", *parts)

    def table(self, key: dg.AssetKey | Sequence[str], file_name: str) -> Path:
        """Path of one table of an asset."""
        return self.asset_dir(key) / file_name

    def worker_count(self, inputs: Sequence[Path]) -> int:
        """Processes for a CPU-bound pass over `inputs` (one when they fit in one batch)."""
        rows = sum(pq.ParquetFile(path).metadata.num_rows for path in inputs)
        return worker_count(self.workers, -(-rows // self.batch_rows))

    @contextmanager
    def exclusive(self, shared: bool = False) -> Iterator[None]:
        """Hold the warehouse lock, across runs and processes.

        An OS lock (`flock`) on `<data_dir>/warehouse/.lock`. Exclusive (the default) for a step
        that reads warehouse tables and writes one, and for the release cut: one at a time.
        Shared for the ingest of a lane or an import, which reads only its own input files:
        sources ingest side by side, while no exclusive holder is reading or rewriting tables.
        The kernel drops the lock when its holder exits, even on `kill -9`, so a crashed run never
        leaves it held. Not re-entrant: take it once per step.
        """
        with self._flock(self.root / "warehouse" / ".lock", shared):
            yield

    @contextmanager
    def publish(self, key: dg.AssetKey | Sequence[str], source: bool = False) -> Iterator[Path]:
        """A staging folder that atomically becomes the asset's folder when the block completes.

        The warehouse lock is held throughout, so the step reads its inputs and swaps its
        output in while no other run rewrites a table. A `source` (a lane or an import) holds it
        shared, plus an exclusive lock of its own, so two runs never ingest one source at once.
        """
        parts = key.path if isinstance(key, dg.AssetKey) else list(key)
        own = self.root / "warehouse" / ".locks" / ("__".join(parts) + ".lock")
        with (
            self.exclusive(shared=source),
            self._flock(own, shared=False) if source else nullcontext(),
            atomic_dir(self.asset_dir(key)) as staging,
        ):
            yield staging

    @staticmethod
    @contextmanager
    def _flock(path: Path, shared: bool) -> Iterator[None]:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as handle:  # closing the file releases the lock
            fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield

    @property
    def policy_path(self) -> Path:
        """The curation policy file: `<data_dir>/policy.yaml`."""
        return self.root / "policy.yaml"

    def load_policy(self) -> Policy:
        """The validated policy; a bad value raises `PolicyError` naming the file and key."""
        return Policy.load(self.policy_path)

    def load_erasure(self) -> ErasureFilter:
        """Erasure requests and tombstones; a bad requests file raises naming file and field."""
        return ErasureFilter.load(self.root)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB connection for queries over the Parquet tables, closed on exit.

        Memory is capped (sorts and joins spill to a temporary folder in the warehouse), so a
        release over a large corpus stays within bounds instead of taking most of the machine.
        Each connection spills into a folder of its own, removed afterwards: DuckDB names its
        spill files by process id, which repeats across containers sharing one volume.
        """
        parent = self.root / "warehouse" / ".duckdb_spill"
        parent.mkdir(parents=True, exist_ok=True)
        spill = Path(tempfile.mkdtemp(prefix=f"{socket.gethostname()}-{os.getpid()}-", dir=parent))
        config: dict[str, str | bool | int | float | list[str]] = {
            "threads": 2,
            "memory_limit": self.duckdb_memory_limit,
            "temp_directory": str(spill),
        }
        try:
            with duckdb.connect(config=config) as connection:
                yield connection
        finally:
            shutil.rmtree(spill, ignore_errors=True)
