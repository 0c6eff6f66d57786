"""The one place that knows where things are stored: the data dir and the warehouse under it."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
from pydantic import Field

from born_assets.governance.erasure import ErasureFilter
from born_assets.parallel import worker_count
from born_assets.policy import Policy
from born_assets.storage import atomic_dir


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
    def exclusive(self) -> Iterator[None]:
        """Hold the warehouse lock: one writer (or release cut) at a time, across runs.

        An OS lock (`flock`) on `<data_dir>/warehouse/.lock`: another run's writer waits here
        until this one is done, and the kernel drops the lock when its holder exits, even on
        `kill -9`, so a crashed run never leaves it held. Not re-entrant: take it once per step.
        """
        path = self.root / "warehouse" / ".lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as handle:  # closing the file releases the lock
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    @contextmanager
    def publish(self, key: dg.AssetKey | Sequence[str]) -> Iterator[Path]:
        """A staging folder that atomically becomes the asset's folder when the block completes.

        The warehouse lock is held throughout, so the step reads its inputs and swaps its
        output in while no other run rewrites a table.
        """
        with self.exclusive(), atomic_dir(self.asset_dir(key)) as staging:
            yield staging

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

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection for queries over the Parquet tables.

        Memory is capped (sorts and joins spill to a temporary folder in the warehouse), so a
        release over a large corpus stays within bounds instead of taking most of the machine.
        """
        spill = self.root / "warehouse" / ".duckdb_spill"
        spill.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(
            config={
                "threads": 2,
                "memory_limit": self.duckdb_memory_limit,
                "temp_directory": str(spill),
            }
        )
