"""The review table: imported verdicts kept as JSONL files, merged into one row per example.

Each import is written once, atomically, as `<reviews_dir>/<sheet>-<UTC time>.jsonl` and never
edited: the folder is the audit trail. The table keeps the latest verdict per example (by
`reviewed_at`, then file name and line), so reviewing an example again replaces its verdict.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from born_assets.schemas.identity import parse_utc_timestamp

RECORD_COLUMNS = (
    "example_id",
    "human_review_status",
    "reviewer_id",
    "reviewed_at",
    "prompt_hash",
    "response_sha256",
    "review_sheet",
    "review_sheet_sha256",
    "notes",
)
"""Columns of the `HumanReviewRecord` table, in order."""


def _stamp(value: Any) -> str:
    moment = pd.Timestamp(value).tz_convert("UTC")
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def write_review_records(records: pd.DataFrame, reviews_dir: Path) -> Path:
    """Store one import's records as a new JSONL file; returns its path."""
    if records.empty:
        raise ValueError("no review records to write")
    first = records.iloc[0]
    stem = Path(str(first["review_sheet"])).stem
    moment = pd.Timestamp(first["reviewed_at"]).tz_convert("UTC")
    path = reviews_dir / f"{stem}-{moment:%Y%m%dT%H%M%S%fZ}.jsonl"
    if path.exists():
        raise FileExistsError(f"{path} exists")
    reviews_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        for row in records.to_dict("records"):
            row["reviewed_at"] = _stamp(row["reviewed_at"])
            handle.write(orjson.dumps({k: row[k] for k in RECORD_COLUMNS}) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    return path


def load_review_table(reviews_dir: Path) -> pd.DataFrame:
    """One row per reviewed example: its latest verdict across every stored import."""
    rows: list[dict[str, Any]] = []
    for order, path in enumerate(
        sorted(reviews_dir.glob("*.jsonl")) if reviews_dir.is_dir() else []
    ):
        for line_number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if not line.strip():
                continue
            record = orjson.loads(line)
            record["reviewed_at"] = parse_utc_timestamp(record["reviewed_at"])
            rows.append({**record, "_order": (order, line_number)})
    table = pd.DataFrame.from_records(rows, columns=[*RECORD_COLUMNS, "_order"])
    table["reviewed_at"] = pd.to_datetime(table["reviewed_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    latest = table.sort_values(["reviewed_at", "_order"]).drop_duplicates("example_id", keep="last")
    return latest.drop(columns="_order").sort_values("example_id").reset_index(drop=True)
