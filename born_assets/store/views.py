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

from born_assets.release.catalog import release_dirs

DATABASE_FILE = "warehouse.duckdb"


def _name(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts)).lower()


def view_definitions(data_dir: Path) -> dict[str, str]:
    """View name -> Parquet path (or glob) for every table found under the data dir."""
    views: dict[str, str] = {}
    warehouse = data_dir / "warehouse"
    for folder, dirs, files in os.walk(warehouse, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # skip the hidden versions
        for file_name in sorted(f for f in files if f.endswith(".parquet")):
            parts = Path(folder).relative_to(warehouse).parts
            stem = file_name.removesuffix(".parquet")
            suffix = () if stem in ("rows", parts[-1]) else (stem,)
            views[_name(*parts, *suffix)] = (Path(folder) / file_name).as_posix()
    for release in release_dirs(data_dir):
        views[_name("release", release.name)] = (release / "data" / "*.parquet").as_posix()
        views[_name("release", release.name, "fates")] = (release / "fates.parquet").as_posix()
    return views


def write_views(data_dir: Path) -> tuple[Path, list[str]]:
    """(Re)create `<data_dir>/warehouse.duckdb` with one view per table; returns the view names."""
    path = data_dir / DATABASE_FILE
    views = view_definitions(data_dir)
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
