"""The `sanitized` stage over record batches: visible rows out, empty rows to quarantine."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from born_assets.sanitize.pipeline import EmptyVisible, SanitizedRow, Transform, sanitize_row
from born_assets.schemas.columns import ExampleColumns
from born_assets.schemas.curation import SanitizedRecord
from born_assets.schemas.derive import arrow_schema, column_names
from born_assets.schemas.fates import exit_row
from born_assets.schemas.identity import response_sha256
from born_assets.schemas.vocabulary import Fate, QuarantineReason, Stage
from born_assets.specs.closure_policy import ClosurePolicy
from born_assets.store.memo import (
    RowMemo,
    code_version,
    in_input_order,
    known_groups_narrow,
    remembered_stream,
)
from born_assets.text.closure import fence_parse_record
from born_assets.text.thinking import TAG_CANDIDATE, find_hidden_markers

CARRIED_COLUMNS = column_names(ExampleColumns)
"""Taken from the input row as it is now (where a row sits may change; what it is may not)."""
READ_COLUMNS = [*CARRIED_COLUMNS, "prompt", "response", "response_format", "post_processing"]
_HIDDEN_TRANSFORMS = {
    "strip_think_tags",
    "drop_thinking_blocks",
    "drop_redacted_thinking",
    "drop_think_tool_calls",
}
KNOWN_TRANSFORMS = frozenset(
    {
        *_HIDDEN_TRANSFORMS,
        "link_tool_calls",
        "cut_tool_output",
        "strip_control_chars",
        "rewrite_closure",
    }
)
FINAL_TRANSFORM = "rewrite_closure"
ROWS_SCHEMA = arrow_schema(SanitizedRecord)
DERIVED_COLUMNS = [name for name in ROWS_SCHEMA.names if name not in CARRIED_COLUMNS]
"""Computed from the row's content: what the memo remembers."""


@dataclass
class SanitizeSummary:
    """Counts from one run: rows in and out, empties by reason, transforms by name."""

    rows_in: int = 0
    rows_out: int = 0
    empty: Counter[str] = field(default_factory=Counter)
    transforms: Counter[str] = field(default_factory=Counter)
    hidden_chars_removed: int = 0
    remembered: int = 0
    """Rows taken from the last output (same content, same code) instead of recomputed."""

    def add(self, other: SanitizeSummary) -> None:
        """Add another batch's counts to these."""
        self.rows_in += other.rows_in
        self.rows_out += other.rows_out
        self.empty.update(other.empty)
        self.transforms.update(other.transforms)
        self.hidden_chars_removed += other.hidden_chars_removed
        self.remembered += other.remembered


def _transform_json(transform: Transform) -> dict[str, Any]:
    return {"name": transform.name, **transform.detail}


def _hidden_counts(transforms: tuple[Transform, ...]) -> tuple[int, int]:
    blocks = chars = 0
    for transform in transforms:
        if transform.name in _HIDDEN_TRANSFORMS:
            blocks += int(transform.detail.get("blocks", transform.detail.get("calls", 0)))
            chars += int(transform.detail.get("chars", 0))
    return blocks, chars


def sanitize_versions(policy: ClosurePolicy) -> dict[str, str]:
    """What a sanitized row depends on besides its content: the code and the closure policy."""
    return {"code": code_version(), "closure_policy": policy.content_hash}


def sanitized_text_versions(policy: ClosurePolicy) -> dict[str, str]:
    """What a sanitized row's texts depend on besides its `example_id`, for a later stage's memo.

    An id comes from the input row; the texts come from it under this code and closure policy.
    A stage that remembers results computed from the texts by id (the PII scan, the
    contamination check) keeps them under these versions too: otherwise a closure policy change
    would answer the new texts with the last run's results.
    """
    return {f"sanitized_{name}": value for name, value in sanitize_versions(policy).items()}


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
        "messages": result.messages,
        "tools": result.tools,
        "prompt": result.prompt,
        "response": result.response,
        "response_sha256": response_sha256(result.response),
        "post_processing": orjson.dumps(history).decode("utf-8"),
        "sections_derived": ",".join(result.sections_derived),
        "sections_absent": ",".join(result.sections_absent),
        "hidden_blocks_removed": blocks,
        "hidden_chars_removed": chars,
        "fence_parses": fence_parse_record(result.response, result.python_parses),
    }


def _exit(row: dict[str, Any], result: EmptyVisible) -> dict[str, Any]:
    return exit_row(
        row,
        Fate.QUARANTINED,
        Stage.SANITIZE,
        QuarantineReason.EMPTY_VISIBLE_CONTENT.value,
        str(result.reason),
    )


@dataclass
class SanitizedBatch:
    """One batch's result: the kept rows as Arrow, the exits, and the batch's counts."""

    rows: pa.Table
    exits: list[dict[str, Any]]
    summary: SanitizeSummary


def sanitize_batch(policy: ClosurePolicy, batch: pa.RecordBatch) -> SanitizedBatch:
    """Sanitize one batch of lineage rows (`READ_COLUMNS`); runs in a worker process too."""
    summary = SanitizeSummary()
    kept: list[dict[str, Any]] = []
    exits: list[dict[str, Any]] = []
    for row in batch.to_pylist():
        summary.rows_in += 1
        fmt = cast(Literal["text", "turns"], row["response_format"])
        result = sanitize_row(row["prompt"], row["response"], fmt, policy)
        if isinstance(result, EmptyVisible):
            summary.empty[str(result.reason)] += 1
            exits.append(_exit(row, result))
            continue
        out = _kept(row, result)
        summary.rows_out += 1
        summary.hidden_chars_removed += out["hidden_chars_removed"]
        summary.transforms.update(t.name for t in result.transforms)
        kept.append(out)
    return SanitizedBatch(pa.Table.from_pylist(kept, schema=ROWS_SCHEMA), exits, summary)


def sanitize_inputs(
    paths: Sequence[Path], batch_rows: int, memo: RowMemo
) -> Iterator[pa.RecordBatch]:
    """The lineage rows to sanitize (`READ_COLUMNS`), batch by batch, in order.

    A row group whose rows `memo` all remembers is read without its texts: a remembered row
    takes its derived columns from the memo and only `CARRIED_COLUMNS` from its input.
    """

    def known(group: pa.Table) -> bool:
        return bool(np.all(memo.find(group.column("example_id")) >= 0))

    return known_groups_narrow(paths, batch_rows, READ_COLUMNS, CARRIED_COLUMNS, known, "sanitize")


def sanitize_stream(
    batches: Iterable[pa.RecordBatch], memo: RowMemo, workers: int, policy: ClosurePolicy
) -> Iterator[SanitizedBatch]:
    """`sanitize_batch` over a stream, taking the rows the memo remembers instead.

    Each output batch has its input batch's rows in input order, however they were obtained.
    The memo must have been written under `sanitize_versions(policy)`.
    """
    for part in remembered_stream(partial(sanitize_batch, policy), batches, memo, workers):
        remembered = _remembered(part.known, part.remembered)
        summary = part.computed.summary
        summary.add(_remembered_summary(remembered))
        rows = in_input_order(part.example_ids, [part.computed.rows, remembered])
        yield SanitizedBatch(rows, part.computed.exits, summary)


def _remembered(inputs: pa.RecordBatch, derived: pa.Table) -> pa.Table:
    if not inputs.num_rows:
        return ROWS_SCHEMA.empty_table()
    columns = {name: inputs.column(name) for name in CARRIED_COLUMNS}
    columns.update({name: derived.column(name) for name in DERIVED_COLUMNS})
    return pa.table(columns).select(ROWS_SCHEMA.names).cast(ROWS_SCHEMA)


def _remembered_summary(rows: pa.Table) -> SanitizeSummary:
    summary = SanitizeSummary(rows.num_rows, rows.num_rows, remembered=rows.num_rows)
    summary.hidden_chars_removed = pc.sum(rows.column("hidden_chars_removed")).as_py() or 0
    for history in rows.column("post_processing").to_pylist():
        summary.transforms.update(step["name"] for step in orjson.loads(history))
    return summary


def hidden_markers(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """Rows of a sanitized batch (`example_id, response, messages`) holding a marker.

    Each is named by its example id, and by `source_file` and `source_line` when the batch has them.

    Searched: what sanitization strips, so a row it kept whole never fails: the closure, and in
    `messages` the texts a model or person wrote (the contents of system, user and assistant
    messages). A tool call's arguments and a tool's output are data (a file the agent wrote, a
    page it read) and stay as they were, as in the closure, where they are fenced; so does the
    prompt, which renders the same messages with their tool results. Arrow's RE2 pre-filter
    (`TAG_CANDIDATE`, case-insensitive) picks the few rows that could hold one; only those go
    through `find_hidden_markers`.
    """
    candidates = pc.match_substring_regex(batch.column("response"), TAG_CANDIDATE, ignore_case=True)
    candidates = pc.or_(pc.fill_null(candidates, False), _message_candidates(batch))
    found = []
    for row in batch.filter(candidates).to_pylist():
        texts = [row["response"], *message_texts(row["messages"])]
        markers = [marker for text in texts for marker in find_hidden_markers(text)]
        if markers:
            where = {k: row[k] for k in ("source_file", "source_line") if k in row}
            found.append({"example_id": row["example_id"], **where, "markers": markers[:3]})
    return found


def message_texts(messages: list[dict[str, Any]] | None) -> Iterator[str]:
    """The texts of a row's messages that a model or person wrote (not tool calls or outputs)."""
    for message in messages or []:
        if message["role"] != "tool" and message["content"]:
            yield message["content"]


def _message_candidates(batch: pa.RecordBatch) -> pa.Array:
    """Per row: whether any message text may hold a marker (a cheap Arrow pre-filter)."""
    messages = batch.column("messages")
    flat = pc.list_flatten(messages)
    hit = pc.match_substring_regex(
        pc.struct_field(flat, "content"), TAG_CANDIDATE, ignore_case=True
    )
    written = pc.and_(pc.fill_null(hit, False), pc.not_equal(pc.struct_field(flat, "role"), "tool"))
    rows = set(pc.list_parent_indices(messages).filter(pc.fill_null(written, False)).to_pylist())
    return pa.array([index in rows for index in range(batch.num_rows)], pa.bool_())


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
