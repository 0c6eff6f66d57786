"""The PII and contamination reports of a release, written into its folder and hashed with it.

- `pii_report.parquet` (`PiiFindingRecord`): for every released row the scan found something in,
  the findings per kind and action (redacted, flagged, placeholder), counts only.
- `contamination_report.parquet` (`ContaminationMatchRecord`): every eval-set match of every row
  the contamination stage found contaminated, whether this release excluded it (a use the policy's
  `contamination.applies_to` lists) or not (an eval release may hold eval items).

The card and the Croissant RAI fields are computed from these files (`summarize_pii`,
`summarize_contamination`), so what they state is what the release holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson

from born_assets import layout
from born_assets.layout import ReleaseDir
from born_assets.schemas.governance import ContaminationMatchRecord
from born_assets.schemas.release_reports import PiiFindingRecord
from born_assets.schemas.vocabulary import SECRET_KINDS, PiiKind
from born_assets.store.parquet import ParquetSink

BATCH_ROWS = 10_000
_ACTIONS = {"redacted": "redacted", "flagged": "flagged", "placeholder": "placeholder"}
_KIND_ORDER = {kind.value: rank for rank, kind in enumerate(PiiKind)}

_PII_SQL = """
SELECT p.example_id, p.origin_id, p.findings, r.pii_scan_status
FROM read_parquet($pii) AS p
JOIN read_parquet($shards) AS r ON r.example_id = p.example_id
WHERE p.findings <> '{"redacted":{},"flagged":{},"placeholder":{}}'
ORDER BY p.example_id
"""

_CONTAMINATION_SQL = """
SELECT m.example_id, m.origin_id, m.eval_id, m.eval_item_id, m.eval_field, m.method,
       m.overlap_fraction
FROM read_parquet($matches) AS m
WHERE m.example_id IN (SELECT example_id FROM read_parquet($verdicts) WHERE is_contaminated)
ORDER BY m.example_id, m.eval_id, m.eval_item_id, m.eval_field NULLS FIRST, m.method
"""


def _finding_rows(batch: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in batch:
        counts = orjson.loads(row["findings"])
        found = [
            (kind, action, int(n))
            for action in _ACTIONS
            for kind, n in counts.get(action, {}).items()
            if n
        ]
        for kind, action, n in sorted(found, key=lambda f: (_KIND_ORDER[f[0]], f[1])):
            yield {
                "example_id": row["example_id"],
                "origin_id": row["origin_id"],
                "kind": kind,
                "is_secret": PiiKind(kind) in SECRET_KINDS,
                "action": action,
                "findings": n,
                "pii_scan_status": row["pii_scan_status"],
            }


def write_pii_report(
    con: duckdb.DuckDBPyConnection, pii: Path, shards: Sequence[Path], out: Path
) -> None:
    """Write `pii_report.parquet`: the findings of every released row, by kind and action."""
    params = {
        "pii": (pii / layout.ROWS).as_posix(),
        "shards": [p.as_posix() for p in shards],
    }
    reader = con.sql(_PII_SQL, params=params).to_arrow_reader(BATCH_ROWS)
    with ParquetSink(out, PiiFindingRecord, BATCH_ROWS) as sink:
        for batch in reader:
            for row in _finding_rows(batch.to_pylist()):
                sink.append(row)


def write_contamination_report(
    con: duckdb.DuckDBPyConnection, contamination: Path, out: Path
) -> None:
    """Write `contamination_report.parquet`: the matches of every contaminated candidate row."""
    params = {
        "matches": (contamination / layout.MATCHES).as_posix(),
        "verdicts": (contamination / layout.ROWS).as_posix(),
    }
    reader = con.sql(_CONTAMINATION_SQL, params=params).to_arrow_reader(BATCH_ROWS)
    with ParquetSink(out, ContaminationMatchRecord, BATCH_ROWS) as sink:
        for batch in reader:
            sink.write_batch(batch)


@dataclass(frozen=True)
class KindCounts:
    """One PII kind in a release: rows and findings per action."""

    kind: str
    is_secret: bool
    rows_redacted: int = 0
    rows_flagged: int = 0
    findings_redacted: int = 0
    findings_flagged: int = 0
    findings_placeholder: int = 0


@dataclass(frozen=True)
class PiiSummary:
    """What the PII report and the shards say about personal data in a release."""

    rows: int
    rows_by_status: dict[str, int]
    kinds: tuple[KindCounts, ...]
    prompts_changed: int  # released rows whose prompt no longer hashes to prompt_hash

    @property
    def secrets(self) -> tuple[KindCounts, ...]:
        """The secret kinds (keys, tokens, passwords) found."""
        return tuple(k for k in self.kinds if k.is_secret)


_KIND_SQL = """
SELECT kind, any_value(is_secret),
       count(DISTINCT example_id) FILTER (WHERE action = 'redacted'),
       count(DISTINCT example_id) FILTER (WHERE action = 'flagged'),
       coalesce(sum(findings) FILTER (WHERE action = 'redacted'), 0),
       coalesce(sum(findings) FILTER (WHERE action = 'flagged'), 0),
       coalesce(sum(findings) FILTER (WHERE action = 'placeholder'), 0)
FROM read_parquet($report) GROUP BY kind
"""


def summarize_pii(con: duckdb.DuckDBPyConnection, folder: Path, prompts_changed: int) -> PiiSummary:
    """Counts for the card: rows by scan status, findings per kind, prompts changed.

    `prompts_changed` is counted over the shards' texts (`release.text_facts`).
    """
    release = ReleaseDir(folder)
    shards = [p.as_posix() for p in release.shards()]
    statuses = dict(
        con.execute(
            "SELECT pii_scan_status, count(*) FROM read_parquet($s) GROUP BY ALL", {"s": shards}
        ).fetchall()
    )
    rows = con.execute(_KIND_SQL, {"report": release.file(ReleaseDir.PII_REPORT).as_posix()})
    kinds = sorted(
        (KindCounts(str(r[0]), bool(r[1]), *(int(v) for v in r[2:])) for r in rows.fetchall()),
        key=lambda k: _KIND_ORDER[k.kind],
    )
    return PiiSummary(
        sum(int(n) for n in statuses.values()),
        {str(k): int(v) for k, v in sorted(statuses.items())},
        tuple(kinds),
        prompts_changed,
    )


@dataclass(frozen=True)
class EvalHits:
    """One eval set in a release: rows matched and, of them, excluded, by method."""

    eval_id: str
    rows_matched: int
    rows_excluded: int
    by_method: dict[str, int] = field(default_factory=dict)


_EVAL_SQL = """
WITH m AS (SELECT * FROM read_parquet($report)),
excluded AS (
    SELECT example_id FROM read_parquet($fates) WHERE fate = 'contaminated'
)
SELECT eval_id, count(DISTINCT example_id),
       count(DISTINCT example_id) FILTER (WHERE example_id IN (SELECT * FROM excluded)),
       list(DISTINCT method ORDER BY method)
FROM m GROUP BY eval_id ORDER BY eval_id
"""


def summarize_contamination(con: duckdb.DuckDBPyConnection, folder: Path) -> tuple[EvalHits, ...]:
    """Per eval set: rows matched, rows this release excluded, rows per method."""
    release = ReleaseDir(folder)
    params = {
        "report": release.file(ReleaseDir.CONTAMINATION_REPORT).as_posix(),
        "fates": release.fates.as_posix(),
    }
    by_method: dict[str, dict[str, int]] = {}
    for eval_id, method, n in con.execute(
        "SELECT eval_id, method, count(DISTINCT example_id) FROM read_parquet($report) "
        "GROUP BY ALL ORDER BY ALL",
        {"report": params["report"]},
    ).fetchall():
        by_method.setdefault(str(eval_id), {})[str(method)] = int(n)
    return tuple(
        EvalHits(str(e), int(m), int(x), by_method.get(str(e), {}))
        for e, m, x, _ in con.execute(_EVAL_SQL, params).fetchall()
    )
