"""Comparing two releases: rows added, removed and changed, and lines whose fate changed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

from born_assets.layout import ReleaseDir
from born_assets.store.atomic import replacing
from born_assets.store.unchanged import file_sha256

# A row's 64-bit hash over every column, nested values included: four times faster than an md5
# of the row cast to text (measured on two 100k releases: 1.8 s vs 7.8 s). `{old}` and `{new}`
# are `_side` relations.
_ROW_CHANGES_SQL = """
WITH old AS ({old}), new AS ({new})
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
_SIDE_SQL = (
    "SELECT example_id, origin_id, teacher_model, source_benchmark, hash(r) AS h "
    "FROM read_parquet(${name}) AS r"
)
_NO_SIDE_SQL = (
    "SELECT NULL::VARCHAR AS example_id, NULL::VARCHAR AS origin_id, "
    "NULL::VARCHAR AS teacher_model, NULL::VARCHAR AS source_benchmark, NULL::UBIGINT AS h "
    "WHERE false"
)

_FATE_CHANGES_SQL = """
SELECT o.fate AS old_fate, n.fate AS new_fate, count(*) AS lines
FROM read_parquet($old) AS o
FULL OUTER JOIN read_parquet($new) AS n
  ON o.source_file = n.source_file AND o.source_line = n.source_line
WHERE o.fate IS DISTINCT FROM n.fate
GROUP BY ALL ORDER BY ALL
"""


_SHIFT_SQL = """
WITH rows AS (
    SELECT 'old' AS side, {dimension} AS value, length(prompt) AS p, length(response) AS r,
           curation_score AS s FROM read_parquet($old)
    UNION ALL
    SELECT 'new', {dimension}, length(prompt), length(response), curation_score
    FROM read_parquet($new)
)
SELECT coalesce(value, '(all)') AS value,
       count(*) FILTER (WHERE side = 'old'), count(*) FILTER (WHERE side = 'new'),
       avg(p) FILTER (WHERE side = 'old'), avg(p) FILTER (WHERE side = 'new'),
       avg(r) FILTER (WHERE side = 'old'), avg(r) FILTER (WHERE side = 'new'),
       avg(s) FILTER (WHERE side = 'old'), avg(s) FILTER (WHERE side = 'new')
FROM rows GROUP BY ROLLUP (value) ORDER BY value = '(all)', value
"""
SHIFT_DIMENSIONS = ("source_benchmark", "teacher_model", "origin_id")


@dataclass(frozen=True)
class Shift:
    """One value of a dimension in both releases: rows, mean lengths and mean score."""

    value: str
    rows: tuple[int, int]
    prompt_chars: tuple[float | None, float | None]
    response_chars: tuple[float | None, float | None]
    score: tuple[float | None, float | None]


DIMENSIONS = ("origin_id", "teacher_model", "source_benchmark")


@dataclass(frozen=True)
class RowChanges:
    """Rows added, removed and changed, in total and per value of each dimension asked for."""

    totals: dict[str, int]
    by_dimension: dict[str, list[tuple[str, str, int]]]  # dimension -> (value, change, rows)


@dataclass(frozen=True)
class ReleaseDiff:
    """Counts of a comparison, grouped for printing."""

    by_dimension: dict[str, list[tuple[str, str, int]]]  # dimension -> (value, change, rows)
    fate_changes: list[tuple[str | None, str | None, int]]
    totals: dict[str, int]
    shifts: dict[str, list[Shift]]  # dimension -> one Shift per value, then `(all)`


def distribution_shifts(
    con: duckdb.DuckDBPyConnection, old: Path, new: Path
) -> dict[str, list[Shift]]:
    """Rows, mean prompt and response length and mean curation score per value, old vs new."""
    params = {"old": _shards(old), "new": _shards(new)}
    shifts = {}
    for dimension in SHIFT_DIMENSIONS:
        # `dimension` is one of the fixed names above, never data.
        rows = con.execute(_SHIFT_SQL.format(dimension=dimension), params).fetchall()
        shifts[dimension] = [
            Shift(str(r[0]), (int(r[1]), int(r[2])), (r[3], r[4]), (r[5], r[6]), (r[7], r[8]))
            for r in rows
        ]
    return shifts


def _shards(folder: Path) -> list[str]:
    return [p.as_posix() for p in ReleaseDir(folder).shards()]


def compared_shards(old: Path, new: Path) -> tuple[list[str], list[str]]:
    """Each release's shards less those with a byte-identical shard in the other release.

    The rows of two identical shards are the same rows with the same content, and an example id
    is in one shard of a release, so no row of them is added, removed or changed: only the other
    shards are read. A release that copied most shards from the one before (`source_shards`)
    is compared in the time of the shards it wrote.
    """
    old_shards, new_shards = ReleaseDir(old).shards(), ReleaseDir(new).shards()
    unmatched = Counter(file_sha256(p) for p in old_shards)
    unmatched.subtract(file_sha256(p) for p in new_shards)
    kept_old: list[str] = []
    kept_new: list[str] = []
    for shards, kept, sign in ((old_shards, kept_old, 1), (new_shards, kept_new, -1)):
        for path in shards:
            digest = file_sha256(path)
            if unmatched[digest] * sign > 0:  # more of these bytes on this side than the other
                unmatched[digest] -= sign
                kept.append(path.as_posix())
    return kept_old, kept_new


def _side(name: str, shards: list[str]) -> str:
    return _SIDE_SQL.format(name=name) if shards else _NO_SIDE_SQL


def row_changes(
    con: duckdb.DuckDBPyConnection,
    old: Path,
    new: Path,
    dimensions: tuple[str, ...] = DIMENSIONS,
    out: Path | None = None,
) -> RowChanges:
    """Rows of two published release folders compared by example id and content.

    Only shards that differ are read (`compared_shards`). Optionally writes the row-level
    changes as Parquet to `out` (whole, or not at all).
    """
    old_shards, new_shards = compared_shards(old, new)
    params = {name: shards for name, shards in (("old", old_shards), ("new", new_shards)) if shards}
    sql = _ROW_CHANGES_SQL.format(old=_side("old", old_shards), new=_side("new", new_shards))
    con.execute(f"CREATE OR REPLACE TEMP TABLE row_changes AS {sql}", params)
    if out is not None:
        with replacing(out) as temporary:
            con.execute(
                "COPY (SELECT * FROM row_changes ORDER BY example_id) TO $out (FORMAT parquet)",
                {"out": temporary.as_posix()},
            )
    by_dimension = {}
    for dimension in dimensions:
        if dimension not in DIMENSIONS:
            raise ValueError(f"no dimension {dimension!r}; the dimensions are {DIMENSIONS}")
        rows = con.execute(
            f"SELECT {dimension}, change, count(*) FROM row_changes GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        by_dimension[dimension] = [(str(v), str(c), int(n)) for v, c, n in rows]
    totals = dict(con.execute("SELECT change, count(*) FROM row_changes GROUP BY ALL").fetchall())
    return RowChanges({k: int(v) for k, v in totals.items()}, by_dimension)


def diff_releases(
    con: duckdb.DuckDBPyConnection, old: Path, new: Path, out: Path | None = None
) -> ReleaseDiff:
    """Compare two published release folders; optionally write the row-level diff as Parquet."""
    rows = row_changes(con, old, new, out=out)
    fate_changes = con.execute(
        _FATE_CHANGES_SQL,
        {"old": (old / ReleaseDir.FATES).as_posix(), "new": (new / ReleaseDir.FATES).as_posix()},
    ).fetchall()
    return ReleaseDiff(
        rows.by_dimension,
        [(o, n, int(c)) for o, n, c in fate_changes],
        rows.totals,
        distribution_shifts(con, old, new),
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
    for dimension, shifts in diff.shifts.items():
        lines.append(f"distribution by {dimension} (old -> new):")
        lines.append(
            f"  {'value':<36} {'rows':>15} {'mean prompt chars':>21} "
            f"{'mean response chars':>21} {'mean score':>15}"
        )
        lines += [_shift_line(shift) for shift in shifts]
    return "\n".join(lines)


def _pair(values: tuple[float | int | None, float | int | None], digits: int) -> str:
    old, new = (("-" if v is None else f"{v:.{digits}f}") for v in values)
    return f"{old} -> {new}"


def _shift_line(shift: Shift) -> str:
    delta = shift.rows[1] - shift.rows[0]
    rows = f"{shift.rows[0]} -> {shift.rows[1]} ({delta:+d})"
    return (
        f"  {shift.value:<36} {rows:>15} {_pair(shift.prompt_chars, 0):>21} "
        f"{_pair(shift.response_chars, 0):>21} {_pair(shift.score, 3):>15}"
    )
