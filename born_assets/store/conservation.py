"""Conservation: every input line has exactly one fate, and every stage accounts for its rows.

Two queries, each the one place its rule is written:

- `unreconciled_lines`: for every input file of every source (its ledger row in `files.parquet`),
  the lines 1..lines_read each appear exactly once in the fated tables (accepted rows plus
  quarantine after ingest; the `row_fates` ledger; a release's `fates.parquet`).
- `unreconciled_flow`: per source and input file, the rows a stage read equal the rows it wrote
  on plus the rows it removed (its exits).

Both return the mismatches; an empty list is the proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import duckdb

_LINES_SQL = """
WITH fated AS (
    SELECT origin_id, source_file, count(*) AS n, count(DISTINCT source_line) AS lines,
           min(source_line) AS first_line, max(source_line) AS last_line
    FROM read_parquet($fated, union_by_name = true) GROUP BY ALL
), ledger AS (
    SELECT origin_id, source_file, lines_read FROM read_parquet($ledgers)
)
SELECT coalesce(f.origin_id, x.origin_id), coalesce(f.source_file, x.source_file),
       coalesce(f.lines_read, 0), coalesce(x.n, 0), coalesce(x.lines, 0)
FROM ledger AS f
FULL OUTER JOIN fated AS x ON f.origin_id = x.origin_id AND f.source_file = x.source_file
WHERE f.source_file IS NULL
   OR coalesce(x.n, 0) <> f.lines_read
   OR coalesce(x.lines, 0) <> coalesce(x.n, 0)
   OR coalesce(x.first_line, 1) < 1
   OR coalesce(x.last_line, 0) > f.lines_read
ORDER BY 1, 2
"""


@dataclass(frozen=True)
class LineMismatch:
    """An input file whose lines and fates disagree."""

    origin_id: str
    source_file: str
    lines_read: int
    fated: int
    distinct_lines: int

    def as_dict(self) -> dict[str, object]:
        """For check metadata."""
        return {
            "source": self.origin_id,
            "file": self.source_file,
            "lines_read": self.lines_read,
            "fated": self.fated,
            "distinct_lines": self.distinct_lines,
        }


def unreconciled_lines(
    con: duckdb.DuckDBPyConnection, fated: Sequence[Path], ledgers: Sequence[Path]
) -> list[LineMismatch]:
    """Input files (by source and file) whose lines are not each fated exactly once.

    Args:
        con: A DuckDB connection.
        fated: Tables with `origin_id`, `source_file`, `source_line`: one row per fate.
        ledgers: File ledgers (`SourceFileRecord`) of the sources those fates belong to.
    """
    if not ledgers and not fated:
        return []
    params = {"fated": [p.as_posix() for p in fated], "ledgers": [p.as_posix() for p in ledgers]}
    return [LineMismatch(*row) for row in con.execute(_LINES_SQL, params).fetchall()]


class RowFilter(Enum):
    """Which rows of a table count in a flow (fixed SQL, never data)."""

    ALL = "true"
    PASSED_GATES = "NOT is_gated_out"


@dataclass(frozen=True)
class Flow:
    """Some tables and which of their rows count."""

    tables: Sequence[Path]
    rows: RowFilter = RowFilter.ALL

    def sql(self, parameter: str) -> str:
        """A SELECT of the counted rows' source and file; `$parameter` names the table list."""
        return (
            f"SELECT origin_id, source_file FROM read_parquet(${parameter}) WHERE {self.rows.value}"
        )


@dataclass(frozen=True)
class FlowMismatch:
    """A source file whose rows in and out of a stage disagree."""

    origin_id: str
    source_file: str
    rows_in: int
    rows_out: int

    def as_dict(self) -> dict[str, object]:
        """For check metadata."""
        return {
            "source": self.origin_id,
            "file": self.source_file,
            "in": self.rows_in,
            "out": self.rows_out,
        }


def unreconciled_flow(
    con: duckdb.DuckDBPyConnection, inflow: Flow, outflow: Sequence[Flow]
) -> list[FlowMismatch]:
    """Source files whose rows into a stage differ from the rows it kept plus those it removed."""
    params: dict[str, object] = {"inflow": [p.as_posix() for p in inflow.tables]}
    outs = []
    for index, flow in enumerate(outflow):
        params[f"out{index}"] = [p.as_posix() for p in flow.tables]
        outs.append(flow.sql(f"out{index}"))
    if not inflow.tables:
        return []
    query = f"""
        WITH i AS (SELECT origin_id, source_file, count(*) AS n FROM ({inflow.sql("inflow")})
                   GROUP BY ALL),
             o AS (SELECT origin_id, source_file, count(*) AS n FROM ({" UNION ALL ".join(outs)})
                   GROUP BY ALL)
        SELECT coalesce(i.origin_id, o.origin_id), coalesce(i.source_file, o.source_file),
               coalesce(i.n, 0), coalesce(o.n, 0)
        FROM i FULL OUTER JOIN o ON i.origin_id = o.origin_id AND i.source_file = o.source_file
        WHERE coalesce(i.n, 0) <> coalesce(o.n, 0)
        ORDER BY 1, 2
    """
    return [FlowMismatch(*row) for row in con.execute(query, params).fetchall()]
