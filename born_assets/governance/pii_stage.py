"""The `pii` stage over Parquet (Dagster-free): scan candidate rows, keep verdicts narrow.

Every candidate training row (dedup survivor, sanitized text) is scanned; one narrow verdict row
is written per example, and the redacted text only for the rows whose text changed, so the heavy
text is not written a third time. The release takes the redacted text where there is one.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.governance.pii import RedactionStats, scan_row
from born_assets.governance.pii_scanner import PiiScanner
from born_assets.schemas.derive import arrow_schema
from born_assets.schemas.governance import PiiVerdictRecord, RedactedTextRecord
from born_assets.specs.pii_policy import PiiPolicy
from born_assets.store.memo import (
    LOOKAHEAD_BATCHES,
    IdIndex,
    RowMemo,
    code_version,
    known_groups_narrow,
)
from born_assets.store.parallel import Lookahead, ordered_map
from born_assets.store.parquet import ParquetSink
from born_assets.store.progress import Progress

_TEXT_COLUMNS = ["example_id", "prompt", "response", "messages", "tools"]


@dataclass
class PiiSummary:
    """Counts from one scan."""

    rows: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    redacted: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    remembered: int = 0

    def add(self, verdict: dict[str, Any]) -> None:
        """Count one verdict row (a `PiiVerdictRecord`)."""
        findings = orjson.loads(verdict["findings"])
        self.rows += 1
        self.by_status[verdict["pii_scan_status"]] += 1
        self.redacted.update(findings["redacted"])
        self.flagged.update(findings["flagged"])


def _counts(stats: RedactionStats) -> str:
    document = {
        "redacted": {k.value: n for k, n in stats.redacted.items()},
        "flagged": {k.value: n for k, n in stats.flagged.items()},
        "placeholder": {k.value: n for k, n in stats.placeholders.items()},
    }
    return orjson.dumps(document).decode("utf-8")


def pii_versions(policy: PiiPolicy) -> dict[str, str]:
    """What a row's verdict depends on besides its text: the code and the `pii` policy."""
    settings = json.dumps(policy.model_dump(mode="json"), sort_keys=True)
    return {"code": code_version(), "pii_policy": hashlib.sha256(settings.encode()).hexdigest()}


@dataclass
class PiiMemo:
    """The last scan's verdicts and redacted texts, when made with the same code and policy."""

    verdicts: RowMemo
    redacted: RowMemo

    @classmethod
    def open(cls, folder: Path, versions: dict[str, str]) -> PiiMemo:
        """The memo of a published `pii` folder (empty when its versions differ)."""
        return cls(
            RowMemo.open(folder, layout.ROWS, versions, _VERDICT_COLUMNS),
            RowMemo.open(folder, layout.REDACTED, versions, _REDACTED_COLUMNS),
        )

    @classmethod
    def empty(cls) -> PiiMemo:
        """Nothing remembered: scan every row."""
        return cls(RowMemo(None, _VERDICT_COLUMNS), RowMemo(None, _REDACTED_COLUMNS))


_VERDICT_COLUMNS = [name for name in arrow_schema(PiiVerdictRecord).names if name != "example_id"]
_REDACTED_COLUMNS = [n for n in arrow_schema(RedactedTextRecord).names if n != "example_id"]


def candidates(
    deduplicated: Path, sanitized: Path, batch_rows: int, memo: PiiMemo
) -> Iterator[tuple[pa.RecordBatch, dict[str, _Result]]]:
    """The dedup survivors' rows (`example_id, origin_id`, then the texts), batch by batch.

    Each batch comes with what `memo` remembers of its rows. In the sanitized table's order
    (deterministic), holding only the narrow survivor ids: a sort of the wide rows by id (the
    former DuckDB join) ran out of DuckDB's 1 GB limit at 100k rows. A row group whose
    survivors the memo all knows is read without its texts (`known_groups_narrow`).
    """
    survivors = pq.read_table(deduplicated, columns=["example_id", "origin_id"])
    index = IdIndex(survivors.column("example_id"))
    origins = survivors.column("origin_id").combine_chunks()
    # What the memo knows of the row group being read: `known_groups_narrow` asks `known` of a
    # group before it yields the group's batches, so each batch takes its rows from here.
    group_known: dict[str, _Result] = {}

    def known(group: pa.Table) -> bool:
        nonlocal group_known
        group_ids = group.column("example_id")
        wanted = group_ids.filter(pa.array(index.contains(group_ids)))
        group_known = _remembered(memo, wanted)
        return len(group_known) == len(wanted)

    for batch in known_groups_narrow([sanitized], batch_rows, _TEXT_COLUMNS, ["example_id"], known):
        at = index.positions(batch.column("example_id"))
        kept = at >= 0
        rows = batch.filter(pa.array(kept))
        columns = [rows.column(0), origins.take(pa.array(at[kept])), *rows.columns[1:]]
        shaped = pa.RecordBatch.from_arrays(
            columns, ["example_id", "origin_id", *_TEXT_COLUMNS[1:]]
        )
        ids = shaped.column("example_id").to_pylist()
        yield shaped, {i: group_known[i] for i in ids if i in group_known}


def scan_candidates(
    *,
    deduplicated: Path,
    sanitized: Path,
    policy: PiiPolicy,
    out_dir: Path,
    batch_rows: int,
    memo: PiiMemo | None = None,
    workers: int = 1,
) -> PiiSummary:
    """Write `rows.parquet` (one verdict per row) and `redacted.parquet` (changed rows only).

    A row `memo` remembers keeps its verdict (and redacted text) instead of being scanned again.
    The other rows are scanned batch by batch on `workers` processes; results are written in
    input order, so the output does not depend on the worker count.
    """
    memo = memo if memo is not None else PiiMemo.empty()
    reader = candidates(deduplicated, sanitized, batch_rows, memo)
    summary = PiiSummary()
    pending: deque[tuple[pa.Array, dict[str, _Result]]] = deque()
    progress = Progress("pii scan", None)

    def unknown_rows() -> Iterator[pa.RecordBatch]:
        for batch, known in reader:
            ids = batch.column("example_id")
            pending.append((ids, known))
            yield batch.filter(pc.invert(pc.is_in(ids, pa.array(list(known), ids.type))))

    with (
        ParquetSink(out_dir / layout.ROWS, PiiVerdictRecord, batch_rows) as verdicts,
        ParquetSink(out_dir / layout.REDACTED, RedactedTextRecord, batch_rows) as redacted,
    ):
        scan = partial(scan_batch, PiiScanner(policy))
        # Batches with nothing to scan run here, so the workers scan the rows further on
        # meanwhile (only ids and remembered verdicts wait ahead).
        ahead = Lookahead(_nothing_to_scan, LOOKAHEAD_BATCHES)
        for scanned in ordered_map(scan, unknown_rows(), workers, ahead):
            ids, known = pending.popleft()
            summary.remembered += len(known)
            fresh = iter(scanned)
            for example_id in ids.to_pylist():
                verdict, texts = known.get(example_id) or next(fresh)
                summary.add(verdict)
                verdicts.append(verdict)
                if texts is not None:
                    redacted.append(texts)
            progress.advance(len(ids))
    progress.finish()
    return summary


_Result = tuple[dict[str, Any], dict[str, Any] | None]


def _nothing_to_scan(batch: pa.RecordBatch) -> bool:
    return batch.num_rows == 0


def scan_batch(scanner: PiiScanner, batch: pa.RecordBatch) -> list[_Result]:
    """Verdict and redacted texts of each row of `batch`, in order; runs in a worker too."""
    return [_scan(row, scanner) for row in batch.to_pylist()]


def conversation_texts(messages: list[dict[str, Any]]) -> list[str]:
    """Every text of a conversation, in order: each message's content, each call's arguments."""
    texts: list[str] = []
    for message in messages:
        texts.append(message["content"] or "")
        texts.extend(call["function"]["arguments"] or "" for call in message["tool_calls"] or [])
    return texts


def _with_texts(messages: list[dict[str, Any]], texts: Iterator[str]) -> list[dict[str, Any]]:
    """The messages with their texts replaced, in `_message_texts` order."""
    rebuilt = []
    for message in messages:
        content = next(texts)
        calls = [
            {**call, "function": {**call["function"], "arguments": next(texts)}}
            for call in message["tool_calls"] or []
        ]
        rebuilt.append(
            {
                **message,
                "content": content if message["content"] is not None else None,
                "tool_calls": calls if message["tool_calls"] is not None else None,
            }
        )
    return rebuilt


def _scan(row: dict[str, Any], scanner: PiiScanner) -> _Result:
    messages = row["messages"] or []
    result = scan_row(row["prompt"], row["response"], scanner, conversation_texts(messages))
    transform = result.transform
    verdict = {
        "example_id": row["example_id"],
        "origin_id": row["origin_id"],
        "contains_real_pii": result.contains_real_pii,
        "pii_scan_status": str(result.pii_scan_status),
        "findings": _counts(result.stats),
        "redaction": orjson.dumps(transform).decode() if transform else None,
    }
    texts = None
    if transform:
        texts = {
            "example_id": row["example_id"],
            "prompt": result.prompt,
            "response": result.response,
            "messages": _with_texts(messages, iter(result.others)),
            "tools": row["tools"],
        }
    return verdict, texts


def _remembered(memo: PiiMemo, ids: pa.Array) -> dict[str, _Result]:
    """Example id -> (verdict, redacted texts or None) for the ids the memo knows."""
    positions = memo.verdicts.find(ids)
    found = positions >= 0
    if not found.any():
        return {}
    known_ids = ids.filter(pa.array(found)).to_pylist()
    verdicts = memo.verdicts.take(positions[found]).to_pylist()
    texts_at = memo.redacted.find(pa.array(known_ids))
    texts = memo.redacted.take(texts_at[texts_at >= 0]).to_pylist()
    texts_by_id = dict(zip(np.array(known_ids)[texts_at >= 0].tolist(), texts, strict=True))
    known: dict[str, _Result] = {}
    for example_id, verdict in zip(known_ids, verdicts, strict=True):
        remembered_texts = texts_by_id.get(example_id)
        if verdict["redaction"] is not None and remembered_texts is None:
            continue  # the redacted text is missing: scan the row again
        with_id = {"example_id": example_id, **verdict}
        known[example_id] = (
            with_id,
            {"example_id": example_id, **remembered_texts} if remembered_texts else None,
        )
    return known
