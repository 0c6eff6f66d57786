"""One row across every release: which releases it appeared in, and its fate in each.

Read from the published folders only (each release's `fates.parquet`, `release.json` and
shards), so the history is what the releases themselves say, whatever the warehouse holds now.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from born_assets.layout import DataDir
from born_assets.release.publish import read_release_json


@dataclass(frozen=True)
class Appearance:
    """The row in one release: its fate there (and, if released, the shard holding it)."""

    version: str
    use: str
    built_at: str
    fate: str
    stage: str
    reason: str | None
    detail: str | None
    shard: str | None


def row_history(con: duckdb.DuckDBPyConnection, data: DataDir, example_id: str) -> list[Appearance]:
    """Every published release whose fate ledger names `example_id`, in version order."""
    history = []
    for release in data.published_releases():
        found = con.execute(
            "SELECT fate, stage, reason, detail FROM read_parquet($f) WHERE example_id = $id",
            {"f": release.fates.as_posix(), "id": example_id},
        ).fetchall()
        if not found:
            continue
        fate, stage, reason, detail = found[0]
        document = read_release_json(release.path)
        history.append(
            Appearance(
                release.version,
                document["use"],
                document["built_at"],
                fate,
                stage,
                reason,
                detail,
                _shard(con, release.shards(), release.path, example_id)
                if fate == "released"
                else None,
            )
        )
    return history


def _shard(
    con: duckdb.DuckDBPyConnection, shards: list[Path], folder: Path, example_id: str
) -> str | None:
    rows = con.execute(
        "SELECT filename FROM read_parquet($s, filename = true) WHERE example_id = $id",
        {"s": [p.as_posix() for p in shards], "id": example_id},
    ).fetchall()
    return Path(rows[0][0]).relative_to(folder).as_posix() if rows else None


def format_history(example_id: str, history: list[Appearance]) -> str:
    """The history as a table, one line per release."""
    if not history:
        return f"{example_id}: in no published release"
    lines = [
        f"{example_id}: in {len(history)} release(s)",
        f"{'release':<10} {'use':<9} {'built_at':<21} {'fate':<12} {'reason':<28} detail / shard",
    ]
    for a in history:
        where = a.shard if a.fate == "released" else (a.detail or "")
        lines.append(
            f"{a.version:<10} {a.use:<9} {a.built_at:<21} {a.fate:<12} {a.reason or '-':<28} "
            f"{where}"
        )
    return "\n".join(lines)
