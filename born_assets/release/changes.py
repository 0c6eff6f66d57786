"""What changed in a release since the one published before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import duckdb

from born_assets.layout import DataDir, ReleaseDir
from born_assets.release.diff import row_changes
from born_assets.release.publish import read_release_json
from born_assets.store.memo import code_version
from born_assets.store.result_cache import ResultCache
from born_assets.store.unchanged import step_key


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
    """Compare release `version` with the release published before it, per lane and import.

    The counts are remembered in `cache/comparisons/` under the SHA-256 of both releases' shards
    (and the code), so re-cutting an unchanged version does not compare its rows again.
    """
    previous = previous_release(data, version)
    if previous is None:
        return ReleaseChanges(None)
    current = data.release(version).path
    shards = [*ReleaseDir(previous).shards(), *ReleaseDir(current).shards()]
    key = step_key(shards, {"code": code_version(), "compare": "rows by origin"})
    cache = ResultCache(data.comparison_cache)
    remembered = _from_record(previous.name, cache.get(key))
    if remembered is not None:
        return remembered
    rows = row_changes(con, previous, current, dimensions=("origin_id",))
    by_origin: dict[str, dict[str, int]] = {}
    for origin, change, count in rows.by_dimension["origin_id"]:
        by_origin.setdefault(origin, {})[change] = count
    cache.put(key, {"totals": rows.totals, "by_origin": by_origin})
    return ReleaseChanges(previous.name, rows.totals, by_origin)


def _from_record(previous: str, record: dict[str, Any] | None) -> ReleaseChanges | None:
    """Remembered counts, or None when there are none or they are not well-formed."""
    if record is None:
        return None
    totals, by_origin = record.get("totals"), record.get("by_origin")
    if not _counts(totals) or not isinstance(by_origin, dict):
        return None
    if not all(isinstance(o, str) and _counts(c) for o, c in by_origin.items()):
        return None
    return ReleaseChanges(previous, totals, by_origin)


def _counts(value: object) -> TypeGuard[dict[str, int]]:
    return isinstance(value, dict) and all(
        isinstance(k, str) and type(n) is int and n >= 0 for k, n in value.items()
    )
