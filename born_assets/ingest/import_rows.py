"""Turning one parsed record of a trace dataset into a lineage row, or a named refusal.

The declared format's adapter cuts the record into prompt turns and response turns; a record that
does not fit the format is refused as `format_mismatch` naming the field, never guessed at. The
prompt is stored as rendered text (`render_prompt`, what its hash and the dedup read), the
response as the whole normalized trace (`codec.encode_trace`: prompt and response turns, the tools
and the recorded outcome), so that sanitization sees every hidden-reasoning form exactly as the
source had it and can build the row's messages from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from born_assets.ingest.quarantine import RejectedLine
from born_assets.ingest.record import Origin, Provenance, generation_time, lineage_record
from born_assets.schemas.identity import parse_utc_timestamp, prompt_hash
from born_assets.schemas.vocabulary import OriginKind, QuarantineReason, ResponseFormat, SourceType
from born_assets.specs.imports import LoadedImport
from born_assets.traces.codec import encode_trace
from born_assets.traces.conversation import TraceExample, render_prompt
from born_assets.traces.fields import AdapterSpec, FormatMismatch
from born_assets.traces.registry import get_adapter


@dataclass(frozen=True)
class ImportContext:
    """What every row of one import shares."""

    loaded: LoadedImport

    @cached_property
    def adapter_spec(self) -> AdapterSpec:
        """The adapter's view of the import spec."""
        return self.loaded.spec.adapter_spec()


def _adapt(context: ImportContext, record: dict[str, Any]) -> TraceExample:
    adapter = get_adapter(context.loaded.spec.format)
    try:
        return adapter(record, context.adapter_spec)
    except FormatMismatch as error:
        raise RejectedLine(
            QuarantineReason.FORMAT_MISMATCH,
            error.field,
            f"does not fit format {context.loaded.spec.format!r}: {error.message}",
        ) from error


def _generated_at(example: TraceExample, field: str, zone: str | None) -> datetime | None:
    if example.timestamp is None:
        return None
    try:
        return parse_utc_timestamp(example.timestamp, zone)
    except ValueError as error:
        raise RejectedLine(QuarantineReason.BAD_TIMESTAMP, field, str(error)) from error


def _provenance(context: ImportContext, example: TraceExample) -> Provenance:
    spec = context.loaded.spec
    fields = spec.fields
    default = spec.generator
    model = example.model or (default.model if default else None)
    if spec.source_type is SourceType.SYNTHETIC and model is None:
        raise RejectedLine(
            QuarantineReason.MISSING_PROVENANCE,
            fields.model_field or "model",
            "a synthetic row must name the model that generated it (in the row or the spec)",
        )
    version = default.version if default and model == default.model else model
    field = fields.timestamp_field or "timestamp"
    recorded = _generated_at(example, field, spec.assume_timezone)
    generated = generation_time(recorded, spec.generated_at)
    if generated is None:
        raise RejectedLine(
            QuarantineReason.MISSING_PROVENANCE,
            field,
            "the record carries no generation time and the spec declares no generated_at",
        )
    generated_at, timestamp_source = generated
    is_real = spec.source_type is SourceType.REAL
    return Provenance(
        source_type=spec.source_type.value,
        teacher_model=model or f"source:{spec.import_id}",
        generator_model=None if is_real else model,
        generator_version=None if is_real else version,
        generation_timestamp=generated_at,
        timestamp_source=timestamp_source,
        created_at=generated_at,
        prompt_template_id=None,
        prompt_template_sha256=None,
        sampling_params={},
        seed_example_id=None,
    )


def import_row(
    context: ImportContext, record: dict[str, Any], source_file: str, source_line: int
) -> dict[str, Any]:
    """The `LineageRecord` row for one parsed record of an import, or raise `RejectedLine`."""
    spec = context.loaded.spec
    example = _adapt(context, record)
    prompt = render_prompt(example.prompt_turns)
    try:
        digest = prompt_hash(prompt)
    except UnicodeEncodeError as error:
        raise RejectedLine(
            QuarantineReason.NOT_UTF8, None, f"prompt is not valid Unicode: {error.reason}"
        ) from error
    return lineage_record(
        origin=Origin(OriginKind.IMPORT.value, spec.import_id, context.loaded.content_hash),
        family=spec.dataset_family,
        source_id=example.source_row_id or f"sha256:{digest[:16]}",
        source_file=source_file,
        source_line=source_line,
        prompt=prompt,
        prompt_sha256=digest,
        response=encode_trace(example),
        response_format=ResponseFormat.TURNS,
        provenance=_provenance(context, example),
        terms=spec,
    )
