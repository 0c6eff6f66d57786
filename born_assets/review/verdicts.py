"""Reading a filled-in review sheet back as review records, or refusing it line by line.

The sheet is checked against the rows as they are now: each verdict's example must still exist
with the same `prompt_hash` and the same response (SHA-256 of the sanitized text the reviewer
saw). One stale row, unknown verdict or repeated example refuses the whole sheet, and the error
names every offending line, so a half-applied review never happens.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from born_assets.review.records import RECORD_COLUMNS
from born_assets.review.sheet import VERDICTS, ReviewSheetError
from born_assets.schemas.identity import response_sha256, sha256_hex

REQUIRED_ON_IMPORT = ("example_id", "prompt_hash", "response_sha256", "verdict")
STALE_HINT = (
    "\nThe sheet no longer matches the data (rows re-sanitized, erased or re-deduplicated): "
    "export a new sheet and review those rows again."
)
RowHashes = tuple[str, str]
"""(prompt_hash, response_sha256) of a current row."""


def current_hashes(rows: pd.DataFrame) -> dict[str, RowHashes]:
    """Hashes of the current rows by example id, from `prompt_hash` and `response` columns."""
    if "response_sha256" in rows.columns:
        digests = rows["response_sha256"]
    else:
        digests = rows["response"].map(response_sha256)
    return dict(
        zip(rows["example_id"], zip(rows["prompt_hash"], digests, strict=True), strict=True)
    )


def _csv_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_ON_IMPORT if c not in (reader.fieldnames or [])]
        if missing:
            raise ReviewSheetError(path, [f"line 1: missing column(s) {', '.join(missing)}"])
        start = reader.line_num + 1
        for number, row in enumerate(reader, start=1):
            yield f"row {number} (line {start})", row
            start = reader.line_num + 1


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise ReviewSheetError(path, [f"line {number}: not JSON ({error})"]) from None
            if not isinstance(row, dict):
                raise ReviewSheetError(path, [f"line {number}: not a JSON object"])
            yield f"line {number}", row


def _text(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def sheet_example_ids(path: Path) -> list[str]:
    """The example ids a sheet names (every row, with or without a verdict)."""
    rows = _csv_rows(path) if path.suffix.lower() == ".csv" else _jsonl_rows(path)
    return [_text(row, "example_id") for _, row in rows if _text(row, "example_id")]


def _stale(where: str, row: Mapping[str, Any], current: RowHashes | None) -> str | None:
    example = _text(row, "example_id")
    if current is None:
        return f"{where}: {example} is not among the current rows (erased, deduplicated away?)"
    for name, now in zip(("prompt_hash", "response_sha256"), current, strict=True):
        carried = _text(row, name)
        if carried != now:
            return f"{where}: {example}: {name} {carried[:12]}... is now {now[:12]}..."
    return None


def _record(
    row: Mapping[str, Any], status: str, reviewer_id: str, sheet: tuple[str, str], at: datetime
) -> dict[str, Any]:
    return {
        "example_id": _text(row, "example_id"),
        "human_review_status": status,
        "reviewer_id": _text(row, "reviewer_id") or reviewer_id,
        "reviewed_at": at,
        "prompt_hash": _text(row, "prompt_hash"),
        "response_sha256": _text(row, "response_sha256"),
        "review_sheet": sheet[0],
        "review_sheet_sha256": sheet[1],
        "notes": _text(row, "notes") or None,
    }


def import_review_sheet(
    path: Path,
    reviewer_id: str,
    current: Mapping[str, RowHashes],
    *,
    now: datetime | None = None,
) -> pd.DataFrame:
    """The review records of a filled-in sheet (`.csv` or `.jsonl`), one per verdict given.

    Args:
        path: The sheet.
        reviewer_id: Who reviewed; a row's own `reviewer_id` cell, when filled, wins.
        current: `current_hashes` of the rows as they are now (at least the sheet's examples).
        now: The review time recorded (UTC); default now.

    Returns:
        Rows with `RECORD_COLUMNS` (the `HumanReviewRecord` table).

    Raises:
        ReviewSheetError: Naming every bad line: an unknown verdict, an example given two
            verdicts, an example gone or changed since export, or no verdict at all.
    """
    if not reviewer_id.strip():
        raise ValueError("reviewer_id must not be empty")
    reviewed_at = (now or datetime.now(UTC)).astimezone(UTC)
    sheet = (path.name, sha256_hex(path.read_bytes()))
    rows = _csv_rows(path) if path.suffix.lower() == ".csv" else _jsonl_rows(path)
    records, problems, stale = [], [], False
    seen: dict[str, str] = {}
    for where, row in rows:
        verdict = _text(row, "verdict").lower()
        if not verdict:
            continue
        example = _text(row, "example_id")
        problem = None
        if verdict not in VERDICTS:
            problem = f"{where}: verdict {row.get('verdict')!r} is not one of {', '.join(VERDICTS)}"
        elif example in seen:
            problem = f"{where}: {example} already has a verdict at {seen[example]}"
        elif (problem := _stale(where, row, current.get(example))) is not None:
            stale = True
        seen.setdefault(example, where)
        if problem:
            problems.append(problem)
        else:
            records.append(_record(row, verdict, reviewer_id.strip(), sheet, reviewed_at))
    if problems:
        raise ReviewSheetError(path, problems, STALE_HINT if stale else "")
    if not records:
        raise ReviewSheetError(path, ["no verdicts: fill in the verdict column"])
    return pd.DataFrame.from_records(records, columns=list(RECORD_COLUMNS))
