"""Assembling one lineage record: the columns every ingesting source fills the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from born_assets.schemas.identity import canonical_json, example_id
from born_assets.schemas.vocabulary import (
    IntendedUse,
    PiiScanStatus,
    ResponseFormat,
    ReviewStatus,
    TimestampSource,
)
from born_assets.specs.common import UsageTerms
from born_assets.specs.generated_at import GeneratedAt


@dataclass(frozen=True)
class Origin:
    """Who ingests a row: a lane or an import, by id, and the hash of its spec file."""

    kind: str
    id: str
    spec_hash: str = ""


def generation_time(
    recorded: datetime | None, declared: GeneratedAt | None
) -> tuple[datetime, TimestampSource] | None:
    """The row's generation time and where it came from: its record, else the spec's declaration."""
    if recorded is not None:
        return recorded, TimestampSource.RECORD
    if declared is not None:
        return declared.latest, TimestampSource.DECLARED
    return None


@dataclass(frozen=True)
class Provenance:
    """Who made the response, when, and how."""

    source_type: str
    teacher_model: str
    generator_model: str | None
    generator_version: str | None
    generation_timestamp: datetime
    timestamp_source: TimestampSource
    created_at: datetime | None
    prompt_template_id: str | None
    prompt_template_sha256: str | None
    sampling_params: dict[str, Any]
    seed_example_id: str | None


def lineage_record(
    *,
    origin: Origin,
    family: str,
    source_id: str,
    source_file: str,
    source_line: int,
    prompt: str,
    prompt_sha256: str,
    response: str,
    response_format: ResponseFormat,
    provenance: Provenance,
    terms: UsageTerms,
) -> dict[str, Any]:
    """A `LineageRecord` row; review and PII columns start unreviewed and not scanned."""
    return {
        "example_id": example_id(origin.kind, origin.id, source_id, prompt_sha256, response),
        "origin_kind": origin.kind,
        "origin_id": origin.id,
        "source_benchmark": family,
        "source_id": source_id,
        "source_file": source_file,
        "source_line": source_line,
        "source_type": provenance.source_type,
        "teacher_model": provenance.teacher_model,
        "generator_model": provenance.generator_model,
        "generator_version": provenance.generator_version,
        "generation_lane": origin.id,
        "generation_timestamp": provenance.generation_timestamp,
        "timestamp_source": provenance.timestamp_source.value,
        "created_at": provenance.created_at,
        "prompt_hash": prompt_sha256,
        "prompt": prompt,
        "response": response,
        "response_format": response_format.value,
        "curation_score": None,
        "prompt_template_id": provenance.prompt_template_id,
        "prompt_template_sha256": provenance.prompt_template_sha256,
        "seed_example_id": provenance.seed_example_id,
        "sampling_params": canonical_json(provenance.sampling_params),
        "post_processing": "[]",
        "human_review_status": ReviewStatus.UNREVIEWED.value,
        "reviewer_id": None,
        "reviewed_at": None,
        "license": terms.license,
        "consent_basis": terms.consent_basis,
        "intended_use": terms.intended_use.value,
        "prohibited_use": canonical_json(
            sorted(IntendedUse(u).value for u in terms.prohibited_use)
        ),
        "eval_exclusion": terms.eval_exclusion,
        "contains_real_pii": None,
        "pii_scan_status": PiiScanStatus.NOT_SCANNED.value,
        "manifest_hash": origin.spec_hash,
    }
