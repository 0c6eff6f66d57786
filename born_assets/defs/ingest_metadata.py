"""Metadata every ingesting asset (lane or import) reports after a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from born_assets import layout
from born_assets.defs.metadata import column_schema, counts_table, preview
from born_assets.ingest.files import IngestSummary
from born_assets.schemas.ingest import LineageRecord

PREVIEW_COLUMNS = [
    "example_id", "source_id", "teacher_model", "source_type", "source_file", "source_line"
]  # fmt: skip
QUARANTINE_PREVIEW_COLUMNS = ["source_file", "source_line", "reason", "field", "message"]


def ingest_metadata(summary: IngestSummary, folder: Path) -> dict[str, Any]:
    """Row counts, quarantine by reason, schema and previews for an ingest run's tables."""
    return {
        "dagster/row_count": summary.accepted,
        "dagster/column_schema": column_schema(LineageRecord),
        "files_read": summary.files,
        "lines_read": summary.lines_read,
        "bytes_read": summary.bytes_read,
        "rows_accepted": summary.accepted,
        "rows_quarantined": summary.quarantined_total,
        "quarantined_by_reason": counts_table(summary.quarantined, "reason"),
        "quarantine_examples": dg.MetadataValue.md(
            "\n".join(f"- {m}" for m in summary.example_messages) or "_(none)_"
        ),
        "preview": preview(folder / layout.ROWS, PREVIEW_COLUMNS),
        "quarantine_preview": preview(folder / layout.QUARANTINE, QUARANTINE_PREVIEW_COLUMNS),
        "path": dg.MetadataValue.path(str(folder)),
    }
