"""The `sanitized` stage over record batches: visible rows out, empty rows to quarantine."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import orjson
import pyarrow as pa

from born_assets.quarantine import QuarantineReason, Stage
from born_assets.sanitize.pipeline import EmptyVisible, SanitizedRow, Transform, sanitize_row
from born_assets.schemas import Fate

READ_COLUMNS = [
    "example_id",
    "origin_kind",
    "origin_id",
    "source_benchmark",
    "source_file",
    "source_line",
    "prompt_hash",
    "prompt",
    "response",
    "response_format",
    "post_processing",
]
_HIDDEN_TRANSFORMS = {"strip_think_tags", "drop_thinking_blocks", "drop_redacted_thinking"}
KNOWN_TRANSFORMS = frozenset({*_HIDDEN_TRANSFORMS, "drop_followup_turns", "rewrite_closure"})
FINAL_TRANSFORM = "rewrite_closure"


@dataclass
class SanitizeSummary:
    """Counts from one run: rows in and out, empties by reason, transforms by name."""

    rows_in: int = 0
    rows_out: int = 0
    empty: Counter[str] = field(default_factory=Counter)
    transforms: Counter[str] = field(default_factory=Counter)
    hidden_chars_removed: int = 0


def _transform_json(transform: Transform) -> dict[str, Any]:
    return {"name": transform.name, **transform.detail}


def _hidden_counts(transforms: tuple[Transform, ...]) -> tuple[int, int]:
    blocks = chars = 0
    for transform in transforms:
        if transform.name in _HIDDEN_TRANSFORMS:
            blocks += int(transform.detail.get("blocks", 0))
            chars += int(transform.detail.get("chars", 0))
    return blocks, chars


def _kept(row: dict[str, Any], result: SanitizedRow) -> dict[str, Any]:
    history = orjson.loads(row["post_processing"]) + [_transform_json(t) for t in result.transforms]
    blocks, chars = _hidden_counts(result.transforms)
    return {
        "example_id": row["example_id"],
        "origin_kind": row["origin_kind"],
        "origin_id": row["origin_id"],
        "source_benchmark": row["source_benchmark"],
        "source_file": row["source_file"],
        "source_line": row["source_line"],
        "prompt_hash": row["prompt_hash"],
        "prompt": result.prompt,
        "response": result.response,
        "post_processing": orjson.dumps(history).decode("utf-8"),
        "sections_derived": ",".join(result.sections_derived),
        "sections_absent": ",".join(result.sections_absent),
        "hidden_blocks_removed": blocks,
        "hidden_chars_removed": chars,
    }


def _exit(row: dict[str, Any], result: EmptyVisible) -> dict[str, Any]:
    return {
        "example_id": row["example_id"],
        "origin_kind": row["origin_kind"],
        "origin_id": row["origin_id"],
        "source_file": row["source_file"],
        "source_line": row["source_line"],
        "fate": Fate.QUARANTINED.value,
        "stage": Stage.SANITIZE.value,
        "reason": QuarantineReason.EMPTY_VISIBLE_CONTENT.value,
        "detail": str(result.reason),
    }


def sanitize_batch(
    batch: pa.RecordBatch, summary: SanitizeSummary
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Sanitize one batch of lineage rows: (rows with visible content, exits for empty ones)."""
    kept: list[dict[str, Any]] = []
    exits: list[dict[str, Any]] = []
    for row in batch.to_pylist():
        summary.rows_in += 1
        fmt = cast(Literal["text", "turns"], row["response_format"])
        result = sanitize_row(row["prompt"], row["response"], fmt)
        if isinstance(result, EmptyVisible):
            summary.empty[str(result.reason)] += 1
            exits.append(_exit(row, result))
            continue
        out = _kept(row, result)
        summary.rows_out += 1
        summary.hidden_chars_removed += out["hidden_chars_removed"]
        summary.transforms.update(t.name for t in result.transforms)
        kept.append(out)
    return kept, exits


def transform_problem(post_processing: str) -> str | None:
    """Why a row's recorded transforms are not a valid sanitization record, or None if they are.

    Valid: a JSON list of objects with known names, ending with the closure rewrite.
    """
    try:
        steps = orjson.loads(post_processing)
    except orjson.JSONDecodeError:
        return "post_processing is not JSON"
    if not isinstance(steps, list) or not steps:
        return "post_processing is not a non-empty list"
    names = [step.get("name") if isinstance(step, dict) else None for step in steps]
    unknown = [n for n in names if n not in KNOWN_TRANSFORMS]
    if unknown:
        return f"unknown transforms {unknown}"
    if names[-1] != FINAL_TRANSFORM:
        return f"the last transform is {names[-1]!r}, not {FINAL_TRANSFORM!r}"
    return None
