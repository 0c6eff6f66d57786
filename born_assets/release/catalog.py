"""Published releases on disk: the next version name, the first day, what each refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from born_assets.layout import DataDir, ReleaseDir
from born_assets.release.ledger import issued_versions
from born_assets.release.publish import read_release_json

_NUMBERED = re.compile(r"v(\d+)")


def next_version(data: DataDir) -> str:
    """`v<N+1>` after the highest `v<N>` published or ever issued (`v1` when there is none)."""
    names = {r.version for r in data.published_releases()} | set(issued_versions(data))
    numbers = [int(m.group(1)) for name in names if (m := _NUMBERED.fullmatch(name))]
    return f"v{max(numbers, default=0) + 1}"


def released_on(release: ReleaseDir) -> str:
    """The day the version was first cut (its release.json says), else today (UTC): YYYY-MM-DD.

    A re-cut of a published version keeps its date, so its card stays byte-identical.
    """
    if release.is_published():
        return str(read_release_json(release.path)["built_at"])[:10]
    return datetime.now(UTC).date().isoformat()


def refusal_counts(fates: Path) -> dict[tuple[str, str, str], int]:
    """Lines a release did not release, by fate, stage and reason."""
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT fate, stage, coalesce(reason, '') FROM read_parquet($f) "
            "WHERE fate <> 'released'",
            {"f": fates.as_posix()},
        ).fetchall()
    counts: dict[tuple[str, str, str], int] = {}
    for row in rows:
        key = (str(row[0]), str(row[1]), str(row[2]))
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
