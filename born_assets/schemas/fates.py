"""Fates: every input line's one recorded end, and the rows that say so.

`QuarantineRecord` (ingest) holds refused lines; `ExitRecord` holds the examples a later stage
removed; `RowFateRecord` is the ledger of one fate per input line. `exit_row` and `quarantine_row`
build their rows, so every stage words them alike.
"""

from __future__ import annotations

import pandera.pandas as pa
import pyarrow as pa_arrow
from pandera.typing import Series

from born_assets.schemas.columns import LineColumns
from born_assets.schemas.identity import sha256_hex
from born_assets.schemas.vocabulary import Fate, QuarantineReason, Stage, values

RAW_LINE_LIMIT_BYTES = 64 * 1024


class RowFateRecord(LineColumns):
    """One row per input line: its one fate, the stage that decided it, and why."""

    example_id: Series[str] = pa.Field(
        nullable=True, description="Example id, when the line parsed far enough to have one."
    )
    fate: Series[str] = pa.Field(isin=values(Fate), description="The line's one fate.")
    stage: Series[str] = pa.Field(description="Stage that decided the fate.")
    reason: Series[str] = pa.Field(
        nullable=True, description="Named reason for every fate but accepted/released."
    )
    detail: Series[str] = pa.Field(
        nullable=True, description="Extra: the offending field, `duplicate_of`, the eval item..."
    )


class ExitRecord(LineColumns):
    """One row per example a stage after ingest removed: the fate, the stage, and why."""

    example_id: Series[str] = pa.Field(unique=True, description="The removed example.")
    fate: Series[str] = pa.Field(isin=values(Fate), description="The example's fate.")
    stage: Series[str] = pa.Field(description="Stage that removed it.")
    reason: Series[str] = pa.Field(description="Named reason (an enum value of that stage).")
    detail: Series[str] = pa.Field(
        nullable=True, description="Extra: the gate and threshold, `duplicate_of`, the eval item."
    )


def exit_row(
    source: dict[str, object], fate: Fate, stage: Stage, reason: str, detail: str | None
) -> dict[str, object]:
    """An `ExitRecord` row for the example `source` (a row with its origin and line columns)."""
    return {
        "example_id": source["example_id"],
        "origin_kind": source["origin_kind"],
        "origin_id": source["origin_id"],
        "source_file": source["source_file"],
        "source_line": source["source_line"],
        "fate": fate.value,
        "stage": stage.value,
        "reason": reason,
        "detail": detail,
    }


def exit_table(
    rows: pa_arrow.Table,
    fate: Fate,
    stage: Stage,
    reason: str | pa_arrow.Array | pa_arrow.ChunkedArray,
    detail: pa_arrow.Array | pa_arrow.ChunkedArray,
) -> pa_arrow.Table:
    """`exit_row` for every row of `rows` at once: its `ExitRecord` columns, in Arrow.

    `reason` is one reason for every row, or one per row.
    """
    count = rows.num_rows
    return pa_arrow.table(
        {
            **{name: rows[name] for name in _EXIT_SOURCE_COLUMNS},
            "fate": pa_arrow.repeat(fate.value, count),
            "stage": pa_arrow.repeat(stage.value, count),
            "reason": pa_arrow.repeat(reason, count) if isinstance(reason, str) else reason,
            "detail": detail,
        }
    )


_EXIT_SOURCE_COLUMNS = ("example_id", "origin_kind", "origin_id", "source_file", "source_line")


def quarantine_row(
    *,
    origin_kind: str,
    origin_id: str,
    source_file: str,
    source_line: int,
    stage: Stage,
    reason: QuarantineReason,
    field: str | None,
    message: str,
    raw: bytes,
    example_id: str | None = None,
) -> dict[str, object]:
    """A `QuarantineRecord` row; the message names the file, the line and the field.

    An erased line keeps no content: its raw text is empty (only its length and hash remain),
    and `field` names the erasure request.
    """
    where = f", field {field!r}" if field else ""
    erased = reason is QuarantineReason.ERASED
    return {
        "origin_kind": origin_kind,
        "origin_id": origin_id,
        "source_file": source_file,
        "source_line": source_line,
        "stage": stage.value,
        "reason": reason.value,
        "field": field,
        "message": f"{source_file} line {source_line}{where}: {message}",
        "example_id": example_id,
        "raw_line": "" if erased else raw[:RAW_LINE_LIMIT_BYTES].decode("utf-8", errors="replace"),
        "raw_bytes": len(raw),
        "raw_sha256": sha256_hex(raw),
    }
