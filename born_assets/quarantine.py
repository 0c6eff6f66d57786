"""Why a line was quarantined: named reasons and the record that carries them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from born_assets.lineage import sha256_hex

RAW_LINE_LIMIT_BYTES = 64 * 1024


class QuarantineReason(StrEnum):
    """Every reason a line can be refused. Counts by reason become metadata; they must reconcile."""

    NOT_UTF8 = "not_utf8"
    EMPTY_LINE = "empty_line"
    UNPARSEABLE_JSON = "unparseable_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    MISTYPED_FIELD = "mistyped_field"
    UNKNOWN_TASK = "unknown_task"
    TEACHER_MISMATCH = "teacher_mismatch"
    SOURCE_TYPE_MISMATCH = "source_type_mismatch"
    PROMPT_HASH_MISMATCH = "prompt_hash_mismatch"
    MISSING_PROVENANCE = "missing_provenance"
    BAD_TIMESTAMP = "bad_timestamp"
    DUPLICATE_LINE = "duplicate_line"
    FORMAT_MISMATCH = "format_mismatch"
    EMPTY_VISIBLE_CONTENT = "empty_visible_content"
    ERASED = "erased"


class Stage(StrEnum):
    """Pipeline stages that decide fates."""

    INGEST = "ingest"
    SANITIZE = "sanitize"
    GATE = "gate"
    DEDUP = "dedup"
    GOVERNANCE = "governance"
    RELEASE = "release"


@dataclass(frozen=True)
class Rejection:
    """A refusal raised while reading one line: the reason, the field to blame, and why."""

    reason: QuarantineReason
    field: str | None
    message: str


class RejectedLine(Exception):
    """Raised inside a line parser to refuse the line; carries a `Rejection`."""

    def __init__(self, reason: QuarantineReason, field: str | None, message: str) -> None:
        super().__init__(message)
        self.rejection = Rejection(reason, field, message)


def quarantine_row(
    *,
    origin_kind: str,
    origin_id: str,
    source_file: str,
    source_line: int,
    stage: Stage,
    rejection: Rejection,
    raw: bytes,
    example_id: str | None = None,
) -> dict[str, object]:
    """A `QuarantineRecord` row; the message names the file, the line and the field."""
    field = f", field {rejection.field!r}" if rejection.field else ""
    erased = rejection.reason is QuarantineReason.ERASED
    return {
        "origin_kind": origin_kind,
        "origin_id": origin_id,
        "source_file": source_file,
        "source_line": source_line,
        "stage": stage.value,
        "reason": rejection.reason.value,
        "field": rejection.field,  # for an erased line: the erasure request id
        "message": f"{source_file} line {source_line}{field}: {rejection.message}",
        "example_id": example_id,
        "raw_line": "" if erased else raw[:RAW_LINE_LIMIT_BYTES].decode("utf-8", errors="replace"),
        "raw_bytes": len(raw),
        "raw_sha256": sha256_hex(raw),
    }
