"""`warehouse.duckdb`: a DuckDB file of views over the warehouse and release Parquet, for SQL.

The views hold no data (they read the Parquet files when queried), so the file stays small and
always shows the latest materialization. View names are the asset keys with `/` and `-` as `_`,
plus `<table>` suffixes for an asset's other tables, and `release_<version>` for releases.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from born_assets import layout
from born_assets.layout import DataDir


def _name(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts)).lower()


def view_definitions(data: DataDir) -> dict[str, str]:
    """View name -> Parquet path (or glob) for every table found under the data dir."""
    views: dict[str, str] = {}
    warehouse = data.warehouse
    for folder, dirs, files in os.walk(warehouse, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # skip the hidden versions
        for file_name in sorted(f for f in files if f.endswith(".parquet")):
            parts = Path(folder).relative_to(warehouse).parts
            stem = Path(file_name).stem
            suffix = () if file_name == layout.ROWS or stem == parts[-1] else (stem,)
            views[_name(*parts, *suffix)] = (Path(folder) / file_name).as_posix()
    for release in data.published_releases():
        views[_name("release", release.version)] = release.shard_glob.as_posix()
        views[_name("release", release.version, "fates")] = release.fates.as_posix()
    return views


def write_views(data: DataDir) -> tuple[Path, list[str]]:
    """(Re)create the views database with one view per table; returns its path and the names."""
    path = data.views_database
    views = view_definitions(data)
    with duckdb.connect(str(path)) as con:
        existing = [
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        ]
        for name in existing:
            con.execute(f'DROP VIEW IF EXISTS "{name}"')
        for name, source in views.items():
            # `name` is derived from file names and sanitized to [a-z0-9_]; the path is a literal.
            literal = source.replace("'", "''")
            con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{literal}')")
    return path, sorted(views)
