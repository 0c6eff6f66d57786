"""The tables every lane and import writes: accepted rows, quarantined lines, the file ledger."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.columns import (
    EXAMPLE_ID,
    SHA256_HEX,
    UTC,
    LineColumns,
    OriginColumns,
    reads,
)
from born_assets.schemas.vocabulary import (
    IntendedUse,
    OriginKind,
    PiiScanStatus,
    ResponseFormat,
    ReviewStatus,
    SourceType,
    TimestampSource,
    values,
)


class LineageRecord(pa.DataFrameModel):
    """One row per accepted example: the text plus its full lineage record.

    Born's eight fields (`source_benchmark`, `source_id`, `teacher_model`, `generation_lane`,
    `generation_timestamp`, `prompt_hash`, `curation_score`, `source_file`) plus the stricter
    record. Unique key: `example_id`.
    """

    example_id: Series[str] = pa.Field(
        unique=True,
        str_matches=EXAMPLE_ID,
        description="Stable id: hash of origin, task, prompt hash and response; same row, same id.",
    )
    origin_kind: Series[str] = pa.Field(
        isin=values(OriginKind), description="`lane` (manifest lane) or `import`."
    )
    origin_id: Series[str] = pa.Field(description="The lane id or import id the row came from.")
    source_benchmark: Series[str] = pa.Field(
        description="Benchmark family (humaneval, mbpp_plus, ds1000, ...) or dataset name."
    )
    source_id: Series[str] = pa.Field(
        description="Task id in the benchmark, or the source's row id."
    )
    source_file: Series[str] = pa.Field(
        description="The input file the row was read from, relative to the data dir."
    )
    source_line: Series[int] = pa.Field(ge=1, description="1-based line number in `source_file`.")
    source_type: Series[str] = pa.Field(
        isin=values(SourceType), description="real, synthetic (a model wrote it) or human_edited."
    )
    teacher_model: Series[str] = pa.Field(
        description="Who produced the response: the teacher model, or the reference's author."
    )
    generator_model: Series[str] = pa.Field(
        nullable=True, description="Model that generated the row; required for synthetic rows."
    )
    generator_version: Series[str] = pa.Field(
        nullable=True, description="Version or snapshot of the generator model."
    )
    generation_lane: Series[str] = pa.Field(description="Lane (or import) that produced the row.")
    generation_timestamp: Series[pd.DatetimeTZDtype] = pa.Field(
        description=(
            "When the response was generated (UTC): the record's own time, else the latest "
            "moment of the spec's declared `generated_at` (see `timestamp_source`)."
        ),
        dtype_kwargs=UTC,
    )
    timestamp_source: Series[str] = pa.Field(
        isin=values(TimestampSource),
        description="`record`: the row carried its generation time; `declared`: the spec's.",
    )
    created_at: Series[pd.DatetimeTZDtype] = pa.Field(
        nullable=True,
        description="When the source says the row was created (UTC); else the generation time.",
        dtype_kwargs=UTC,
    )
    prompt_hash: Series[str] = pa.Field(
        str_matches=SHA256_HEX,
        description="SHA-256 hex of the prompt's UTF-8 bytes exactly as sent; no normalization.",
    )
    prompt: Series[str] = pa.Field(description="The prompt exactly as sent to the teacher.")
    response: Series[str] = pa.Field(description="The response as received (before sanitization).")
    response_format: Series[str] = pa.Field(
        isin=values(ResponseFormat),
        description="`text` (plain response) or `turns` (normalized trace turns as JSON).",
    )
    curation_score: Series[float] = pa.Field(
        nullable=True,
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Curation score in [0, 1]; empty until the gates have run.",
    )
    prompt_template_id: Series[str] = pa.Field(
        nullable=True, description="Id of the prompt template that rendered the prompt."
    )
    prompt_template_sha256: Series[str] = pa.Field(
        nullable=True,
        str_matches=SHA256_HEX,
        description="Version of that template: SHA-256 of the template text that rendered this "
        "row's prompt (as the row carries it, else the lane's template at ingest).",
    )
    seed_example_id: Series[str] = pa.Field(
        nullable=True, description="Example the prompt was seeded from, if any."
    )
    sampling_params: Series[str] = pa.Field(
        description="Sampling parameters as canonical JSON (`{}` when none apply)."
    )
    post_processing: Series[str] = pa.Field(
        description="Ordered JSON list of the transforms applied to the row so far."
    )
    human_review_status: Series[str] = pa.Field(
        isin=values(ReviewStatus), description="unreviewed, approved, rejected or needs_review."
    )
    reviewer_id: Series[str] = pa.Field(nullable=True, description="Who reviewed the row.")
    reviewed_at: Series[pd.DatetimeTZDtype] = pa.Field(
        nullable=True, description="When the row was reviewed (UTC).", dtype_kwargs=UTC
    )
    license: Series[str] = pa.Field(description="License the row is distributed under (SPDX).")
    consent_basis: Series[str] = pa.Field(description="Why we may use the row.")
    intended_use: Series[str] = pa.Field(
        isin=values(IntendedUse), description="train, eval, red_team or demo."
    )
    prohibited_use: Series[str] = pa.Field(
        description="JSON list of uses the row must never be put to."
    )
    eval_exclusion: Series[bool] = pa.Field(
        description="True when the row must be kept out of evaluation sets."
    )
    contains_real_pii: Series[pd.BooleanDtype] = pa.Field(
        nullable=True, description="Whether real personal data was found; empty until scanned."
    )
    pii_scan_status: Series[str] = pa.Field(
        isin=values(PiiScanStatus), description="not_scanned, clean, redacted or flagged."
    )
    manifest_hash: Series[str] = pa.Field(
        str_matches=SHA256_HEX,
        description="SHA-256 of the manifest or import spec file that ingested the row.",
    )

    @pa.dataframe_check
    @classmethod
    @reads("source_type", "generator_model")
    def synthetic_rows_name_their_generator(cls, df: pd.DataFrame) -> pd.Series:
        """A synthetic row must name its generator (its prompt hash is required of every row)."""
        is_synthetic = df["source_type"] == SourceType.SYNTHETIC.value
        return ~is_synthetic | df["generator_model"].notna()


class QuarantineRecord(LineColumns):
    """One row per input line that was not accepted, with the reason and the raw line."""

    stage: Series[str] = pa.Field(description="Stage that quarantined the line (ingest, sanitize).")
    reason: Series[str] = pa.Field(description="Named reason (see `QuarantineReason`).")
    field: Series[str] = pa.Field(
        nullable=True, description="The offending field, as a dotted path, when one is to blame."
    )
    message: Series[str] = pa.Field(description="Human-readable explanation naming file and line.")
    example_id: Series[str] = pa.Field(
        nullable=True, description="Example id when the line parsed far enough to have one."
    )
    raw_line: Series[str] = pa.Field(
        description="The raw line (invalid UTF-8 bytes replaced by U+FFFD), cut at 64 KiB."
    )
    raw_bytes: Series[int] = pa.Field(ge=0, description="Length of the raw line in bytes.")
    raw_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the raw line's bytes."
    )


class SourceFileRecord(OriginColumns):
    """One row per input file read by a lane or import: the ledger that fates reconcile against."""

    source_file: Series[str] = pa.Field(
        unique=True, description="Input file, relative to the data dir."
    )
    lines_read: Series[int] = pa.Field(ge=0, description="Lines read from the file.")
    size_bytes: Series[int] = pa.Field(ge=0, description="File size in bytes.")
    file_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the file's bytes as read."
    )
