"""Read-only reports over the warehouse, for the `born` command line and the Makefile."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class SourceSummary:
    """Lines per fate for one lane or import."""

    origin_kind: str
    origin_id: str
    lines_read: int
    by_fate: dict[str, int]


def fate_summary(path: Path) -> list[SourceSummary]:
    """Lines read and lines per fate, per lane and import, from a fate ledger (Parquet)."""
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: materialize the graph first (make release)"
        )
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT origin_kind, origin_id, fate, count(*) FROM read_parquet($p) "
            "GROUP BY ALL ORDER BY origin_kind, origin_id, fate",
            {"p": path.as_posix()},
        ).fetchall()
    grouped: dict[tuple[str, str], dict[str, int]] = {}
    for kind, origin, fate, n in rows:
        grouped.setdefault((kind, origin), {})[fate] = int(n)
    return [
        SourceSummary(kind, origin, sum(fates.values()), fates)
        for (kind, origin), fates in grouped.items()
    ]


def format_summary(summaries: list[SourceSummary]) -> str:
    """A fixed-width text table: one line per source, then the totals per fate."""
    fates = sorted({fate for s in summaries for fate in s.by_fate})
    header = ["kind", "source", "lines_read", *fates]
    body = [
        [s.origin_kind, s.origin_id, str(s.lines_read), *(str(s.by_fate.get(f, 0)) for f in fates)]
        for s in summaries
    ]
    totals = ["", "TOTAL", str(sum(s.lines_read for s in summaries))]
    totals += [str(sum(s.by_fate.get(f, 0) for s in summaries)) for f in fates]
    table = [header, *body, totals]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(len(lines) - 1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
