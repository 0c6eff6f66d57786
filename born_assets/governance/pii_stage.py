"""The `pii` stage over Parquet (Dagster-free): scan candidate rows, keep verdicts narrow.

Every candidate training row (dedup survivor, sanitized text) is scanned; one narrow verdict row
is written per example, and the redacted text only for the rows whose text changed, so the heavy
text is not written a third time. The release takes the redacted text where there is one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson

from born_assets.governance.pii import PiiPolicy, RedactionStats, scan_row
from born_assets.schemas import PiiVerdictRecord, RedactedTextRecord
from born_assets.storage import ParquetSink

VERDICTS_FILE = "rows.parquet"
REDACTED_FILE = "redacted.parquet"

_CANDIDATES_SQL = """
SELECT d.example_id, d.origin_id, s.prompt, s.response
FROM read_parquet($deduplicated) AS d
JOIN read_parquet($sanitized) AS s ON s.example_id = d.example_id
ORDER BY d.example_id
"""


@dataclass
class PiiSummary:
    """Counts from one scan."""

    rows: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    redacted: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)


def _counts(stats: RedactionStats) -> str:
    document = {
        "redacted": {k.value: n for k, n in stats.redacted.items()},
        "flagged": {k.value: n for k, n in stats.flagged.items()},
        "placeholder": {k.value: n for k, n in stats.placeholders.items()},
    }
    return orjson.dumps(document).decode("utf-8")


def scan_candidates(
    con: duckdb.DuckDBPyConnection,
    *,
    deduplicated: Path,
    sanitized: Path,
    policy: PiiPolicy,
    out_dir: Path,
    batch_rows: int,
) -> PiiSummary:
    """Write `rows.parquet` (one verdict per row) and `redacted.parquet` (changed rows only)."""
    params = {"deduplicated": deduplicated.as_posix(), "sanitized": sanitized.as_posix()}
    reader = con.sql(_CANDIDATES_SQL, params=params).to_arrow_reader(batch_rows)
    summary = PiiSummary()
    with (
        ParquetSink(out_dir / VERDICTS_FILE, PiiVerdictRecord, batch_rows) as verdicts,
        ParquetSink(out_dir / REDACTED_FILE, RedactedTextRecord, batch_rows) as redacted,
    ):
        for batch in reader:
            for row in batch.to_pylist():
                result = scan_row(row["prompt"], row["response"], policy)
                summary.rows += 1
                summary.by_status[result.pii_scan_status] += 1
                summary.redacted.update({k.value: n for k, n in result.stats.redacted.items()})
                summary.flagged.update({k.value: n for k, n in result.stats.flagged.items()})
                transform = result.transform
                verdicts.append(
                    {
                        "example_id": row["example_id"],
                        "origin_id": row["origin_id"],
                        "contains_real_pii": result.contains_real_pii,
                        "pii_scan_status": str(result.pii_scan_status),
                        "findings": _counts(result.stats),
                        "redaction": orjson.dumps(transform).decode() if transform else None,
                    }
                )
                if transform:
                    redacted.append(
                        {
                            "example_id": row["example_id"],
                            "prompt": result.prompt,
                            "response": result.response,
                        }
                    )
    return summary
