"""What changed in a release since the one published before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from born_assets.layout import DataDir
from born_assets.release.diff import diff_releases
from born_assets.release.publish import read_release_json


@dataclass(frozen=True)
class ReleaseChanges:
    """Rows added, removed and changed since `previous` (None: the first release)."""

    previous: str | None
    totals: dict[str, int] = field(default_factory=dict)
    by_origin: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        """The same rows, byte for byte, as the previous release."""
        return self.previous is not None and not any(self.totals.values())

    def sentence(self) -> str:
        """One line for the UI and the CLI, e.g. `identical to v1` or `since v1: 60 removed`."""
        if self.previous is None:
            return "the first release: no earlier version to compare with"
        if self.identical:
            return f"identical to {self.previous}"
        counts = ", ".join(f"{n} {change}" for change, n in sorted(self.totals.items()))
        origins = "; ".join(
            f"{origin} " + ", ".join(f"{n} {c}" for c, n in sorted(changes.items()))
            for origin, changes in sorted(self.by_origin.items())
        )
        return f"since {self.previous}: {counts} rows ({origins})"


def previous_release(data: DataDir, version: str) -> Path | None:
    """The published release built last before `version` was (None when there is none)."""
    built = {r.version: read_release_json(r.path)["built_at"] for r in data.published_releases()}
    mine = built.get(version)
    earlier = [(at, v) for v, at in built.items() if v != version and (mine is None or at <= mine)]
    return data.release(max(earlier)[1]).path if earlier else None


def changes_since_previous(
    con: duckdb.DuckDBPyConnection, data: DataDir, version: str
) -> ReleaseChanges:
    """Compare release `version` with the release published before it, per lane and import."""
    previous = previous_release(data, version)
    if previous is None:
        return ReleaseChanges(None)
    diff = diff_releases(con, previous, data.release(version).path)
    by_origin: dict[str, dict[str, int]] = {}
    for origin, change, rows in diff.by_dimension["origin_id"]:
        by_origin.setdefault(origin, {})[change] = rows
    return ReleaseChanges(previous.name, diff.totals, by_origin)
