"""Comparing two releases: rows added, removed and changed, and lines whose fate changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from born_assets.layout import ReleaseDir

_ROW_CHANGES_SQL = """
WITH old AS (
    SELECT example_id, origin_id, teacher_model, source_benchmark, md5(CAST(o AS VARCHAR)) AS h
    FROM read_parquet($old) AS o
), new AS (
    SELECT example_id, origin_id, teacher_model, source_benchmark, md5(CAST(n AS VARCHAR)) AS h
    FROM read_parquet($new) AS n
)
SELECT coalesce(new.example_id, old.example_id) AS example_id,
       CASE WHEN old.example_id IS NULL THEN 'added'
            WHEN new.example_id IS NULL THEN 'removed'
            ELSE 'changed' END AS change,
       coalesce(new.origin_id, old.origin_id) AS origin_id,
       coalesce(new.teacher_model, old.teacher_model) AS teacher_model,
       coalesce(new.source_benchmark, old.source_benchmark) AS source_benchmark
FROM old FULL OUTER JOIN new ON old.example_id = new.example_id
WHERE old.example_id IS NULL OR new.example_id IS NULL OR old.h <> new.h
ORDER BY example_id
"""

_FATE_CHANGES_SQL = """
SELECT o.fate AS old_fate, n.fate AS new_fate, count(*) AS lines
FROM read_parquet($old) AS o
FULL OUTER JOIN read_parquet($new) AS n
  ON o.source_file = n.source_file AND o.source_line = n.source_line
WHERE o.fate IS DISTINCT FROM n.fate
GROUP BY ALL ORDER BY ALL
"""


@dataclass(frozen=True)
class ReleaseDiff:
    """Counts of a comparison, grouped for printing."""

    by_dimension: dict[str, list[tuple[str, str, int]]]  # dimension -> (value, change, rows)
    fate_changes: list[tuple[str | None, str | None, int]]
    totals: dict[str, int]


def _shards(folder: Path) -> list[str]:
    return [p.as_posix() for p in ReleaseDir(folder).shards()]


def diff_releases(
    con: duckdb.DuckDBPyConnection, old: Path, new: Path, out: Path | None = None
) -> ReleaseDiff:
    """Compare two published release folders; optionally write the row-level diff as Parquet."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE row_changes AS {_ROW_CHANGES_SQL}",
        {"old": _shards(old), "new": _shards(new)},
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            "COPY (SELECT * FROM row_changes ORDER BY example_id) TO $out (FORMAT parquet)",
            {"out": out.as_posix()},
        )
    by_dimension = {}
    for dimension in ("origin_id", "teacher_model", "source_benchmark"):
        # `dimension` is one of the fixed names above, never data.
        rows = con.execute(
            f"SELECT {dimension}, change, count(*) FROM row_changes GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        by_dimension[dimension] = [(str(v), str(c), int(n)) for v, c, n in rows]
    totals = dict(con.execute("SELECT change, count(*) FROM row_changes GROUP BY ALL").fetchall())
    fate_changes = con.execute(
        _FATE_CHANGES_SQL,
        {"old": (old / ReleaseDir.FATES).as_posix(), "new": (new / ReleaseDir.FATES).as_posix()},
    ).fetchall()
    return ReleaseDiff(
        by_dimension,
        [(o, n, int(c)) for o, n, c in fate_changes],
        {k: int(v) for k, v in totals.items()},
    )


def format_diff(old: str, new: str, diff: ReleaseDiff) -> str:
    """The comparison as text."""
    lines = [f"release {old} -> {new}"]
    for change in ("added", "removed", "changed"):
        lines.append(f"  rows {change}: {diff.totals.get(change, 0)}")
    for dimension, rows in diff.by_dimension.items():
        lines.append(f"by {dimension}:")
        lines += [f"  {value:<40} {change:<8} {n}" for value, change, n in rows] or ["  (none)"]
    lines.append("lines whose fate changed (old -> new):")
    lines += [f"  {o or '-'} -> {n or '-'}: {c}" for o, n, c in diff.fate_changes] or ["  (none)"]
    return "\n".join(lines)
