"""Review sheets: a sample of rows out to CSV + JSONL, and the reviewers' verdicts back in.

A sheet row carries what a reviewer needs (prompt, sanitized response, gate verdicts, curation
score) and what an import needs to know the sheet still describes the data: the example id, the
`prompt_hash` and the SHA-256 of the response as shown. The `verdict`, `reviewer_id` and `notes`
columns start empty. An import is all or nothing: a verdict that is not `approved`, `rejected` or
`needs_review`, an example that is gone, or a hash that changed refuses the whole sheet, naming
every offending line. A row left without a verdict is simply not reviewed.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from born_assets.layout import plain_name
from born_assets.schemas.columns import EXAMPLE_ID
from born_assets.schemas.identity import response_sha256, sha256_hex
from born_assets.schemas.vocabulary import ReviewStatus

VERDICTS = tuple(s.value for s in ReviewStatus if s is not ReviewStatus.UNREVIEWED)
INFO_COLUMNS = (
    "example_id",
    "origin_id",
    "source_id",
    "prompt_hash",
    "response_sha256",
    "curation_score",
    "is_structural_ok",
    "is_format_ok",
    "is_length_ok",
    "soft_failure_reasons",
    "prompt",
    "response",
)
ENTRY_COLUMNS = ("verdict", "reviewer_id", "notes")
SHEET_COLUMNS = INFO_COLUMNS + ENTRY_COLUMNS
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_IDS = re.compile(EXAMPLE_ID.strip("^$"))


@dataclass(frozen=True)
class ReviewSheet:
    """The two files of one exported sheet and the examples in it, in sheet order."""

    csv_path: Path
    jsonl_path: Path
    example_ids: tuple[str, ...]


class ReviewSheetError(ValueError):
    """A sheet that cannot be imported; `problems` names each offending line."""

    def __init__(self, path: Path, problems: list[str], hint: str = "") -> None:
        self.path = path
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"{path}: review sheet refused, nothing imported ({len(problems)} problem(s)):\n"
            f"{listed}{hint}"
        )


def sample_key(seed: int, example_id: str) -> str:
    """The sampling order: SHA-256 of `<seed>:<example_id>` (DuckDB computes the same)."""
    return sha256_hex(f"{seed}:{example_id}".encode())


def sample_rows(
    rows: pd.DataFrame, sample_n: int, *, lane: str | None = None, seed: int = 0
) -> pd.DataFrame:
    """`sample_n` rows (of `lane`, if given), the same ones for the same seed whatever the order."""
    if sample_n < 1:
        raise ValueError(f"sample_n must be >= 1, got {sample_n}")
    chosen = rows if lane is None else rows[rows["origin_id"] == lane]
    order = chosen["example_id"].map(lambda i: sample_key(seed, i))
    return chosen.assign(_key=order).sort_values("_key").head(sample_n).drop(columns="_key")


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()  # numpy scalar -> Python
    return value


def _sheet_records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    records = []
    for row in rows.to_dict("records"):
        record = {name: _cell(row.get(name)) for name in INFO_COLUMNS}
        if record["response_sha256"] is None:
            record["response_sha256"] = response_sha256(row["response"])
        records.append({**record, **dict.fromkeys(ENTRY_COLUMNS, "")})
    return records


def _csv_text(value: Any) -> str:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading quote (OWASP)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _write_atomic(path: Path, write: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def drop_sheet_rows(path: Path, example_ids: Set[str]) -> int:
    """Rewrite a sheet file (`.csv` or `.jsonl`) without the rows of `example_ids`; rows dropped.

    A row goes when it names one of them anywhere (a reviewer may have moved columns about);
    every other row stays as it stands, verdicts filled in so far included. An unchanged file is
    not rewritten.
    """
    if path.suffix == ".jsonl":
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if example_ids.isdisjoint(_IDS.findall(line))]
        if len(kept) < len(lines):
            _write_atomic(path, lambda handle: handle.writelines(kept))
        return len(lines) - len(kept)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    kept_rows = [row for row in rows if example_ids.isdisjoint(_IDS.findall(",".join(row)))]
    if len(kept_rows) < len(rows):
        _write_atomic(path, lambda handle: csv.writer(handle).writerows(kept_rows))
    return len(rows) - len(kept_rows)


def sheet_stem(name: str | None, *, lane: str | None, seed: int, sample_n: int) -> str:
    """The sheet's file stem: `name`, else `review-<lane or all>-s<seed>-n<sample_n>`.

    Raises:
        OutsideDataDir: the stem is not a plain name (a `/`, a `..`, a leading `.`): the sheet
            must land in its folder, where an erasure reaches its row content.
    """
    stem = name if name is not None else f"review-{lane or 'all'}-s{seed}-n{sample_n}"
    return plain_name(stem, "review sheet name (--name, or --lane in the default name)")


def export_review_sheet(
    rows: pd.DataFrame,
    out_dir: Path,
    *,
    sample_n: int,
    lane: str | None = None,
    seed: int = 0,
    name: str | None = None,
) -> ReviewSheet:
    """Write a review sheet of `sample_n` rows as `<name>.csv` and `<name>.jsonl`.

    Args:
        rows: Candidate rows (`born_assets.review.candidates`): at least `example_id`,
            `origin_id`, `prompt_hash`, `prompt` and the sanitized `response`.
        out_dir: Folder for the sheet (created if missing).
        sample_n: How many rows to sample.
        lane: Only rows of this lane or import (`origin_id`).
        seed: Chooses the sample; the same seed and rows give the same sheet.
        name: File stem; default `review-<lane or all>-s<seed>-n<sample_n>`.

    Raises:
        FileExistsError: A sheet of that name exists (someone may be filling it in).
        OutsideDataDir: The name is not a plain file stem (see `sheet_stem`).
        ValueError: No row to sample.
    """
    stem = sheet_stem(name, lane=lane, seed=seed, sample_n=sample_n)
    csv_path, jsonl_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.jsonl"
    for path in (csv_path, jsonl_path):
        if path.exists():
            raise FileExistsError(f"{path} exists; pick another name or seed")
    sample = sample_rows(rows, sample_n, lane=lane, seed=seed).sort_values("example_id")
    if sample.empty:
        raise ValueError(f"no rows to review{f' for {lane!r}' if lane else ''}")
    records = _sheet_records(sample)
    out_dir.mkdir(parents=True, exist_ok=True)

    def write_csv(handle: Any) -> None:
        writer = csv.writer(handle)
        writer.writerow(SHEET_COLUMNS)
        writer.writerows([_csv_text(r[c]) for c in SHEET_COLUMNS] for r in records)

    def write_jsonl(handle: Any) -> None:
        handle.writelines(orjson.dumps(r).decode("utf-8") + "\n" for r in records)

    _write_atomic(csv_path, write_csv)
    _write_atomic(jsonl_path, write_jsonl)
    return ReviewSheet(csv_path, jsonl_path, tuple(r["example_id"] for r in records))
