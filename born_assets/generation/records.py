"""What generation writes: the lane row with its lineage record, and the ledger entry.

A generated row is a lane JSONL row (`born_assets.ingest.lane_rows` reads it like any other) written
under the manifest's `output.fields` names, plus extra fields the ingest ignores but an auditor
wants: the generation key, the template hash, the seed, request ids, latency and token usage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from born_assets.generation.attempts import STATUS_FAILED, STATUS_OK
from born_assets.generation.client import AttemptError, AttemptReason, Completion
from born_assets.schemas.identity import prompt_hash
from born_assets.schemas.vocabulary import SourceType
from born_assets.specs.manifests import OutputFields
from born_assets.text.closure import Section, closure_sections, scan_closure
from born_assets.text.thinking import strip_thinking

GENERATOR = "born_assets.generation/1"
"""Names this code in every row and ledger entry it writes."""
KEPT_RESPONSE_CHARS = 65_536
EXTRA_FIELDS = (
    "source_type",
    "generation_key",
    "generator",
    "prompt_template_id",
    "prompt_template_sha256",
    "seed",
    "request_model",
    "request_id",
    "response_id",
    "client_request_id",
    "finish_reason",
    "usage",
    "latency_ms",
    "http_retries",
    "attempt",
)
"""Fields a generated row carries besides the manifest's `output.fields`."""


@dataclass(frozen=True)
class RowContext:
    """What every generated row of one lane shares."""

    teacher_model: str
    request_model: str
    template_id: str
    template_sha256: str
    params: Mapping[str, Any]
    seed: int | None
    fields: OutputFields


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, microseconds included."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def missing_sections(response: str, required: Sequence[Section]) -> list[str]:
    """Required closure sections absent or empty in the visible response.

    Read as the structural gate reads them, after hidden reasoning is stripped: `code` is
    `## Code` or `## Patch`, and a section holding only `_Not present in the source._` is empty.
    """
    visible, _ = strip_thinking(response)
    has, _, _ = closure_sections(visible, scan_closure(visible))
    return [section.value for section in required if not has[section]]


def check_sections(completion: Completion, required: Sequence[Section]) -> None:
    """Raise `AttemptError(missing_sections)` when the response lacks a required section."""
    missing = missing_sections(completion.content, required)
    if missing:
        raise AttemptError(
            AttemptReason.MISSING_SECTIONS,
            f"required closure sections absent or empty: {', '.join(missing)}",
            body=completion.content[:KEPT_RESPONSE_CHARS],
        )


def generated_row(
    context: RowContext,
    *,
    task_id: str,
    prompt: str,
    key: str,
    completion: Completion,
    attempt: int,
    generated_at: datetime,
) -> dict[str, Any]:
    """The lane row for one usable answer, with the full lineage record filled in."""
    fields = context.fields
    stamp = utc_iso(generated_at)
    return {
        fields.task_id: task_id,
        fields.prompt: prompt,
        fields.response: completion.content,
        fields.teacher_model: context.teacher_model,
        fields.generator_version: completion.reported_model,
        fields.generation_timestamp: stamp,
        fields.created_at: stamp,
        fields.prompt_hash: prompt_hash(prompt),
        fields.sampling_params: dict(context.params),
        "source_type": SourceType.SYNTHETIC.value,
        "generation_key": key,
        "generator": GENERATOR,
        "prompt_template_id": context.template_id,
        "prompt_template_sha256": context.template_sha256,
        "seed": context.seed,
        "request_model": context.request_model,
        "request_id": completion.request_id,
        "response_id": completion.response_id,
        "client_request_id": completion.client_request_id,
        "finish_reason": completion.finish_reason,
        "usage": completion.usage,
        "latency_ms": completion.latency_ms,
        "http_retries": completion.http_retries,
        "attempt": attempt,
    }


@dataclass(frozen=True)
class AttemptEntry:
    """One attempt as the ledger records it."""

    key: str
    task_id: str
    attempt: int
    prompt_sha256: str
    started_at: datetime
    finished_at: datetime
    latency_ms: int

    def ok(self, completion: Completion, rows_file: str) -> dict[str, Any]:
        """The ledger line of an attempt that produced a row."""
        return {
            **self._common(STATUS_OK),
            "rows_file": rows_file,
            "reported_model": completion.reported_model,
            "request_id": completion.request_id,
            "client_request_id": completion.client_request_id,
            "http_retries": completion.http_retries,
        }

    def failed(self, error: AttemptError) -> dict[str, Any]:
        """The ledger line of a failed attempt: reason, message, and what came back."""
        return {
            **self._common(STATUS_FAILED),
            "reason": error.reason.value,
            "error": error.message,
            "http_status": error.status,
            "http_retries": error.http_retries,
            "client_request_id": error.client_request_id or None,
            "response": error.body,
        }

    def _common(self, status: str) -> dict[str, Any]:
        return {
            "generation_key": self.key,
            "task_id": self.task_id,
            "attempt": self.attempt,
            "status": status,
            "prompt_hash": self.prompt_sha256,
            "started_at": utc_iso(self.started_at),
            "finished_at": utc_iso(self.finished_at),
            "latency_ms": self.latency_ms,
            "generator": GENERATOR,
        }
