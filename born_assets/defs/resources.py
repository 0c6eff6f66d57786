"""The warehouse resource: the data dir and the warehouse settings, configured in Dagster."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from born_assets.layout import DEFAULT_DATA_DIR, DataDir
from born_assets.specs.erasure import ErasureFilter
from born_assets.specs.policy import Policy
from born_assets.store.parquet import DEFAULT_BATCH_ROWS
from born_assets.store.warehouse import DEFAULT_DUCKDB_MEMORY, Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """Parquet tables under `<data_dir>/warehouse/<asset key path>/`, queried with DuckDB."""

    data_dir: str = Field(
        default=DEFAULT_DATA_DIR,
        description="Root of the project's data: manifests, lanes, imports, warehouse, releases.",
    )
    duckdb_memory_limit: str = Field(
        default=DEFAULT_DUCKDB_MEMORY,
        description="DuckDB memory limit per connection; larger work spills.",
    )
    batch_rows: int = Field(
        default=DEFAULT_BATCH_ROWS,
        description="Rows per Parquet row group and per in-memory batch; it sets the peak memory.",
    )
    workers: int = Field(
        default=0,
        ge=0,
        description=(
            "Processes for the CPU-bound stages (closure rewrite, gates); 0 = one per CPU. "
            "Output bytes do not depend on it."
        ),
    )

    execution_cache: str = Field(
        default="",
        description=(
            "Folder of sandboxed test results by code, tests and environment hash; empty: "
            "`<data_dir>/cache/execution`. Results depend only on those hashes, so data dirs "
            "may share one."
        ),
    )

    @property
    def execution_cache_dir(self) -> Path:
        """Where `executed` keeps its results (see `execution_cache`)."""
        if self.execution_cache:
            return Path(self.execution_cache).resolve()
        return self.data.execution_cache

    @property
    def data(self) -> DataDir:
        """The data dir and every path under it."""
        return DataDir.at(self.data_dir)

    @property
    def store(self) -> Warehouse:
        """The warehouse these settings describe."""
        return Warehouse(self.data, self.duckdb_memory_limit, self.batch_rows, self.workers)

    @property
    def root(self) -> Path:
        """The data dir as an absolute path."""
        return self.data.root

    def asset_dir(self, key: dg.AssetKey) -> Path:
        """Folder holding an asset's tables."""
        return self.data.asset(key.path)

    def table(self, key: dg.AssetKey, file_name: str) -> Path:
        """Path of one table of an asset."""
        return self.data.table(key.path, file_name)

    def worker_count(self, inputs: Sequence[Path]) -> int:
        """Processes for a CPU-bound pass over `inputs` (one when they fit in one batch)."""
        return self.store.worker_count(inputs)

    @contextmanager
    def exclusive(self, shared: bool = False) -> Iterator[None]:
        """Hold the warehouse lock (see `Warehouse.exclusive`)."""
        with self.store.exclusive(shared):
            yield

    @contextmanager
    def publish(self, key: dg.AssetKey, source: bool = False) -> Iterator[Path]:
        """A staging folder that atomically becomes the asset's folder (`Warehouse.publish`)."""
        with self.store.publish(key.path, source) as staging:
            yield staging

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A memory-capped DuckDB connection (`Warehouse.connect`)."""
        with self.store.connect() as connection:
            yield connection

    def load_policy(self) -> Policy:
        """The validated policy; a bad value raises `PolicyError` naming the file and key."""
        return Policy.load(self.data.policy)

    def load_erasure(self) -> ErasureFilter:
        """Erasure requests and tombstones; a bad requests file raises naming file and field."""
        return ErasureFilter.load(self.data)
