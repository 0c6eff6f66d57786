"""The transparency table: one row per lane and import, a footer per family and teacher, a total."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from born_assets.schemas.vocabulary import Fate, Stage
from born_assets.specs.project import Project

FATE_COLUMNS = [
    Fate.QUARANTINED,
    Fate.GATED_OUT,
    Fate.DUPLICATE,
    Fate.CONTAMINATED,
    Fate.ERASED,
    Fate.WITHHELD,
    Fate.RELEASED,
]
SCORE_COLUMNS = ["score_mean", "score_p25", "score_median", "score_p75"]
# Rows whose code ran against their task's tests (released, or gated out as tests_failed), how
# many passed, and the share: per lane, per teacher (footer rows `kind: teacher`), per family.
TEST_COLUMNS = ["rows_tested", "rows_passing", "pass_rate"]
COLUMNS = [
    "kind",
    "id",
    "benchmark_family",
    "teacher",
    "license",
    "spec_sha256",
    "rows_read",
    *(f.value for f in FATE_COLUMNS),
    *SCORE_COLUMNS,
    *TEST_COLUMNS,
]
CSV_COLUMNS = [*COLUMNS, "source_url"]


@dataclass(frozen=True)
class SourceMeta:
    """What the specs say about one lane or import."""

    origin_kind: str
    origin_id: str
    family: str
    teacher: str
    license: str
    spec_sha256: str
    source_url: str | None = None


def source_metas(project: Project) -> list[SourceMeta]:
    """What the specs say about each lane and import, for the transparency table."""
    metas = [
        SourceMeta(
            origin_kind="lane",
            origin_id=m.manifest.lane_id,
            family=m.manifest.benchmark_family,
            teacher=f"{m.manifest.teacher.model} ({m.manifest.teacher.version})",
            license=m.manifest.license,
            spec_sha256=m.content_hash,
        )
        for m in project.lanes
    ]
    metas += [
        SourceMeta(
            origin_kind="import",
            origin_id=i.spec.import_id,
            family=i.spec.dataset_family,
            teacher=i.spec.generator.model if i.spec.generator else "named per row",
            license=i.spec.license,
            spec_sha256=i.content_hash,
            source_url=str(i.spec.source_url),
        )
        for i in project.imports
    ]
    return metas


_SCORES_SQL = """
SELECT {key}, round(avg(curation_score), 4), round(quantile_cont(curation_score, 0.25), 4),
       round(quantile_cont(curation_score, 0.5), 4), round(quantile_cont(curation_score, 0.75), 4)
FROM read_parquet($shards) GROUP BY ALL
"""


def _scores(
    con: duckdb.DuckDBPyConnection, shards: Sequence[Path], key: str
) -> dict[Any, list[Any]]:
    if not shards:
        return {}
    rows = con.execute(_SCORES_SQL.format(key=key), {"shards": [p.as_posix() for p in shards]})
    return {row[0]: list(row[1:]) for row in rows.fetchall()}


def transparency_rows(
    con: duckdb.DuckDBPyConnection,
    fates: Path,
    shards: Sequence[Path],
    sources: Sequence[SourceMeta],
) -> list[dict[str, Any]]:
    """Rows of the table: sources by family and id, each family's footer, teachers, the total."""
    counts: dict[str, dict[str, int]] = {}
    for origin_id, fate, n in con.execute(
        "SELECT origin_id, fate, count(*) FROM read_parquet($p) GROUP BY ALL",
        {"p": fates.as_posix()},
    ).fetchall():
        counts.setdefault(origin_id, {})[fate] = int(n)
    tested = _tested(con, fates, shards)
    by_source = _scores(con, shards, "origin_id")
    by_family = _scores(con, shards, "source_benchmark")
    total_scores = _scores(con, shards, "'total'").get("total", [None] * 4)
    rows: list[dict[str, Any]] = []
    for family in sorted({s.family for s in sources}):
        members = sorted((s for s in sources if s.family == family), key=lambda s: s.origin_id)
        body = [
            _source_row(s, counts.get(s.origin_id, {}), by_source.get(s.origin_id))
            | _pass_rate(*tested.get(s.origin_id, (0, 0)))
            for s in members
        ]
        rows += body
        rows.append(_footer("family", family, body, by_family.get(family)))
    sources_only = [r for r in rows if r["kind"] in ("lane", "import")]
    for teacher in sorted({r["teacher"] for r in sources_only if r["rows_tested"]}):
        body = [r for r in sources_only if r["teacher"] == teacher]
        rows.append(_footer("teacher", "", body, None) | {"id": teacher, "teacher": teacher})
    rows.append(_footer("total", "", sources_only, total_scores))
    return rows


_TESTED_SQL = """
SELECT origin_id, count(*) FILTER (WHERE execution_status <> 'not_executable'),
       count(*) FILTER (WHERE execution_status = 'passed')
FROM read_parquet($shards) GROUP BY ALL
"""


def _tested(
    con: duckdb.DuckDBPyConnection, fates: Path, shards: Sequence[Path]
) -> dict[str, tuple[int, int]]:
    """Origin id -> (rows tested, rows passing): released rows, plus those gated out by tests."""
    found: dict[str, tuple[int, int]] = {}
    if shards:
        params = {"shards": [p.as_posix() for p in shards]}
        for origin, ran, passing in con.execute(_TESTED_SQL, params).fetchall():
            found[origin] = (int(ran), int(passing))
    failed = con.execute(
        "SELECT origin_id, count(*) FROM read_parquet($p) WHERE stage = $stage GROUP BY ALL",
        {"p": fates.as_posix(), "stage": Stage.EXECUTE.value},
    ).fetchall()
    for origin, n in failed:
        ran, passing = found.get(origin, (0, 0))
        found[origin] = (ran + int(n), passing)
    return found


def _pass_rate(ran: int, passing: int) -> dict[str, Any]:
    return {
        "rows_tested": ran,
        "rows_passing": passing,
        "pass_rate": round(passing / ran, 4) if ran else None,
    }


def _source_row(
    source: SourceMeta, fates: dict[str, int], scores: list[Any] | None
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "kind": source.origin_kind,
        "id": source.origin_id,
        "benchmark_family": source.family,
        "teacher": source.teacher,
        "license": source.license,
        "spec_sha256": source.spec_sha256,
        "rows_read": sum(fates.values()),
        "source_url": source.source_url or "",
    }
    row.update({f.value: fates.get(f.value, 0) for f in FATE_COLUMNS})
    row.update(zip(SCORE_COLUMNS, scores or [None] * 4, strict=True))
    return row


def _footer(
    kind: str, family: str, body: list[dict[str, Any]], scores: list[Any] | None
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "kind": kind,
        "id": "TOTAL" if kind == "total" else f"all {family}",
        "benchmark_family": family,
        "teacher": "",
        "license": "",
        "spec_sha256": "",
        "rows_read": sum(r["rows_read"] for r in body),
        "source_url": "",
    }
    row.update({f.value: sum(r[f.value] for r in body) for f in FATE_COLUMNS})
    row.update(zip(SCORE_COLUMNS, scores or [None] * 4, strict=True))
    tested = sum(r["rows_tested"] for r in body)
    row.update(_pass_rate(tested, sum(r["rows_passing"] for r in body)))
    return row


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The table as CSV (full hashes, empty cells for missing scores)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in CSV_COLUMNS})
    return buffer.getvalue()


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column == "spec_sha256":
        return str(value)[:12]
    return str(value).replace("|", "\\|")


def to_markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The table as Markdown; family footers and the total in bold."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = [_cell(c, row[c]) for c in COLUMNS]
        if row["kind"] in ("family", "teacher", "total"):
            cells = [f"**{c}**" if c else c for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
