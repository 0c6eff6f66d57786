"""Turning one parsed lane line into a row with the full lineage record, or a named refusal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from born_assets.ingest.quarantine import RejectedLine
from born_assets.ingest.record import Origin, Provenance, generation_time, lineage_record
from born_assets.schemas.identity import parse_utc_timestamp, prompt_hash
from born_assets.schemas.vocabulary import (
    OriginKind,
    QuarantineReason,
    ResponseFormat,
    SourceType,
    TimestampSource,
)
from born_assets.specs.manifests import LoadedManifest

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# The template a row was rendered with, as a generating lane writes it with every row
# (born_assets.generation.records); a row without them was rendered with the lane's template.
TEMPLATE_ID, TEMPLATE_SHA256 = "prompt_template_id", "prompt_template_sha256"
_MISSING = object()


@dataclass(frozen=True)
class LaneContext:
    """What every row of one lane shares: the manifest and where its files live."""

    loaded: LoadedManifest

    @property
    def lane_id(self) -> str:
        """The lane's id."""
        return self.loaded.manifest.lane_id


def _get(record: dict[str, Any], name: str) -> Any:
    value = record.get(name, _MISSING)
    return _MISSING if value is None else value


def _required_text(record: dict[str, Any], name: str, *, allow_int: bool = False) -> str:
    value = _get(record, name)
    if value is _MISSING:
        raise RejectedLine(
            QuarantineReason.MISSING_FIELD, name, f"required field {name!r} is missing"
        )
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise RejectedLine(
            QuarantineReason.MISTYPED_FIELD,
            name,
            f"field {name!r} must be a string, got {type(value).__name__}",
        )
    if not value.strip():
        raise RejectedLine(QuarantineReason.MISSING_FIELD, name, f"field {name!r} is empty")
    return value


def _optional_text(record: dict[str, Any], name: str) -> str | None:
    value = _get(record, name)
    if value is _MISSING:
        return None
    if not isinstance(value, str):
        raise RejectedLine(
            QuarantineReason.MISTYPED_FIELD,
            name,
            f"field {name!r} must be a string, got {type(value).__name__}",
        )
    return value


def _timestamp(record: dict[str, Any], name: str) -> datetime | None:
    text = _optional_text(record, name)
    if text is None:
        return None
    try:
        return parse_utc_timestamp(text)
    except ValueError as error:
        raise RejectedLine(QuarantineReason.BAD_TIMESTAMP, name, str(error)) from error


def _checked_prompt_hash(record: dict[str, Any], name: str, prompt: str) -> str:
    try:
        computed = prompt_hash(prompt)
    except UnicodeEncodeError as error:
        raise RejectedLine(
            QuarantineReason.NOT_UTF8, "prompt", f"prompt is not valid Unicode: {error.reason}"
        ) from error
    carried = _optional_text(record, name)
    if carried is None:
        return computed
    if not _SHA256.match(carried):
        raise RejectedLine(
            QuarantineReason.MISTYPED_FIELD, name, f"{name!r} must be 64 lowercase hex digits"
        )
    if carried != computed:
        raise RejectedLine(
            QuarantineReason.PROMPT_HASH_MISMATCH,
            name,
            f"carried {carried[:12]}... but the prompt hashes to {computed[:12]}...",
        )
    return computed


def _sampling_params(record: dict[str, Any], name: str, default: dict[str, Any]) -> dict[str, Any]:
    value = _get(record, name)
    if value is _MISSING:
        return default
    if not isinstance(value, dict):
        raise RejectedLine(
            QuarantineReason.MISTYPED_FIELD,
            name,
            f"field {name!r} must be an object, got {type(value).__name__}",
        )
    return value


def _provenance(
    record: dict[str, Any], context: LaneContext
) -> tuple[str, str | None, tuple[datetime, TimestampSource]]:
    """Teacher, generator and generation time, enforcing the synthetic-provenance rule."""
    manifest = context.loaded.manifest
    fields = manifest.output.fields
    teacher = _optional_text(record, fields.teacher_model)
    recorded = _timestamp(record, fields.generation_timestamp)
    if manifest.source_type is SourceType.SYNTHETIC:
        if teacher is None:
            raise RejectedLine(
                QuarantineReason.MISSING_PROVENANCE,
                fields.teacher_model,
                "a synthetic row must name the model that generated it",
            )
        if recorded is None:
            raise RejectedLine(
                QuarantineReason.MISSING_PROVENANCE,
                fields.generation_timestamp,
                "a synthetic row must say when it was generated",
            )
    generated = generation_time(recorded, manifest.generated_at)
    # A synthetic row carries its time (checked above); any other lane declares generated_at.
    assert generated is not None
    if teacher is not None and teacher != manifest.teacher.model:
        raise RejectedLine(
            QuarantineReason.TEACHER_MISMATCH,
            fields.teacher_model,
            f"row names {teacher!r} but the lane's teacher is {manifest.teacher.model!r}",
        )
    generator = manifest.teacher.model if manifest.source_type is not SourceType.REAL else None
    return manifest.teacher.model, generator, generated


def _generator_version(record: dict[str, Any], context: LaneContext) -> str:
    fields = context.loaded.manifest.output.fields
    return (
        _optional_text(record, fields.generator_version) or context.loaded.manifest.teacher.version
    )


def _template_sha256(record: dict[str, Any], context: LaneContext) -> str:
    """The version of the template behind this row: as the row carries it, else the lane's."""
    carried = _optional_text(record, TEMPLATE_SHA256)
    if carried is None:
        return context.loaded.template_hash
    if not _SHA256.match(carried):
        raise RejectedLine(
            QuarantineReason.MISTYPED_FIELD,
            TEMPLATE_SHA256,
            f"{TEMPLATE_SHA256!r} must be 64 lowercase hex digits",
        )
    return carried


def _source_type(record: dict[str, Any], context: LaneContext) -> None:
    declared = _optional_text(record, "source_type")
    expected = context.loaded.manifest.source_type.value
    if declared is not None and declared != expected:
        raise RejectedLine(
            QuarantineReason.SOURCE_TYPE_MISMATCH,
            "source_type",
            f"row says {declared!r} but the lane's manifest says {expected!r}",
        )


def lane_row(
    context: LaneContext, record: dict[str, Any], source_file: str, source_line: int
) -> dict[str, Any]:
    """The `LineageRecord` row for one parsed lane line, or raise `RejectedLine`."""
    manifest = context.loaded.manifest
    fields = manifest.output.fields
    task_id = _required_text(record, fields.task_id, allow_int=True)
    prompt = _required_text(record, fields.prompt)
    response = _required_text(record, fields.response)
    if task_id not in context.loaded.task_ids:
        raise RejectedLine(
            QuarantineReason.UNKNOWN_TASK,
            fields.task_id,
            f"task {task_id!r} is not assigned to lane {manifest.lane_id!r}",
        )
    _source_type(record, context)
    teacher, generator, (generated_at, timestamp_source) = _provenance(record, context)
    digest = _checked_prompt_hash(record, fields.prompt_hash, prompt)
    return lineage_record(
        origin=Origin(OriginKind.LANE.value, manifest.lane_id, context.loaded.content_hash),
        family=manifest.benchmark_family,
        source_id=task_id,
        source_file=source_file,
        source_line=source_line,
        prompt=prompt,
        prompt_sha256=digest,
        response=response,
        response_format=ResponseFormat.TEXT,
        provenance=Provenance(
            source_type=manifest.source_type.value,
            teacher_model=teacher,
            generator_model=generator,
            generator_version=_generator_version(record, context) if generator else None,
            generation_timestamp=generated_at,
            timestamp_source=timestamp_source,
            created_at=_timestamp(record, fields.created_at) or generated_at,
            prompt_template_id=_optional_text(record, TEMPLATE_ID) or manifest.prompt_template.id,
            prompt_template_sha256=_template_sha256(record, context),
            sampling_params=_sampling_params(
                record, fields.sampling_params, manifest.sampling_params
            ),
            seed_example_id=_optional_text(record, fields.seed_example_id),
        ),
        terms=manifest,
    )
