"""`warehouse.duckdb`: a DuckDB file of views over the warehouse and release Parquet, for SQL.

The views hold no data (they read the Parquet files when queried), so the file stays small and
always shows the latest materialization. View names are the asset keys with `/` and `-` as `_`,
plus `<table>` suffixes for an asset's other tables, and `release_<version>` for releases.

Two views span every published release, for questions across versions: `release_rows` (every
released row of every release, with `release_version` and `release_use`) and `release_fates`
(every input line's fate in every release, with `release_version` and `release_use`). "Every row
from teacher X between two dates, in any release" is one query:

```sql
SELECT release_version, example_id, generation_timestamp
FROM release_rows
WHERE teacher_model = 'gpt-5-mini'
  AND generation_timestamp BETWEEN TIMESTAMPTZ '2025-08-01' AND TIMESTAMPTZ '2025-09-01'
```
"""

from __future__ import annotations

import json
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


def _literal(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def across_releases_sql(data: DataDir) -> dict[str, str]:
    """`release_rows` and `release_fates`: the SQL of the views over every published release."""
    rows, fates = [], []
    for release in data.published_releases():
        document = json.loads(release.release_json.read_text(encoding="utf-8"))
        version, use = _literal(release.version), _literal(document["use"])
        tag = f"{version} AS release_version, {use} AS release_use"
        glob = _literal(release.shard_glob.as_posix())
        rows.append(f"SELECT {tag}, * FROM read_parquet({glob}, union_by_name = true)")
        fates.append(f"SELECT {tag}, * FROM read_parquet({_literal(release.fates.as_posix())})")
    if not rows:
        return {}
    return {
        "release_rows": " UNION ALL BY NAME ".join(rows),
        "release_fates": " UNION ALL BY NAME ".join(fates),
    }


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
            con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet({_literal(source)})')
        across = across_releases_sql(data)
        for name, sql in across.items():
            con.execute(f'CREATE VIEW "{name}" AS {sql}')
    return path, sorted([*views, *across])
