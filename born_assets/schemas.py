"""Table schemas: one Pandera model per table, the single source of truth.

The Arrow/Parquet schema, the pandas dtypes, the asset checks and the `dagster/column_schema`
metadata are all derived from these classes (see `schema_tools`); nothing restates them.
"""

from __future__ import annotations

from enum import StrEnum

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

UTC = {"unit": "us", "tz": "UTC"}
SHA256_HEX = r"^[0-9a-f]{64}$"


class OriginKind(StrEnum):
    """Where a row entered the warehouse."""

    LANE = "lane"
    IMPORT = "import"


class SourceType(StrEnum):
    """Who wrote the response: a teacher model, a person, or a person editing a model."""

    REAL = "real"
    SYNTHETIC = "synthetic"
    HUMAN_EDITED = "human_edited"


class IntendedUse(StrEnum):
    """What a row may be used for."""

    TRAIN = "train"
    EVAL = "eval"
    RED_TEAM = "red_team"
    DEMO = "demo"


class ReviewStatus(StrEnum):
    """Human review state of a row."""

    UNREVIEWED = "unreviewed"
    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_REVIEW = "needs_review"


class PiiScanStatus(StrEnum):
    """Whether and how a row was scanned for personal data and secrets."""

    NOT_SCANNED = "not_scanned"
    CLEAN = "clean"
    REDACTED = "redacted"
    FLAGGED = "flagged"


class ResponseFormat(StrEnum):
    """How `response` is encoded: teacher text, normalized trace turns (JSON), or a closure."""

    TEXT = "text"
    TURNS = "turns"
    CLOSURE = "closure"


class Fate(StrEnum):
    """The one recorded end of an input line.

    `accepted` is the only non-final value: the line passed every stage built so far and waits
    for a release to include it (then it is `released`). `withheld` marks a row a release kept
    out because of its use limits (an `eval` row in a training release): not bad, not released.
    """

    ACCEPTED = "accepted"
    RELEASED = "released"
    WITHHELD = "withheld"
    QUARANTINED = "quarantined"
    GATED_OUT = "gated_out"
    DUPLICATE = "duplicate"
    CONTAMINATED = "contaminated"
    ERASED = "erased"


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


class LineageRecord(pa.DataFrameModel):
    """One row per accepted example: the text plus its full lineage record.

    Born's eight fields (`source_benchmark`, `source_id`, `teacher_model`, `generation_lane`,
    `generation_timestamp`, `prompt_hash`, `curation_score`, `source_file`) plus the stricter
    record. Unique key: `example_id`.
    """

    example_id: Series[str] = pa.Field(
        unique=True,
        str_matches=r"^ex_[0-9a-f]{24}$",
        description="Stable id: hash of origin, task, prompt hash and response; same row, same id.",
    )
    origin_kind: Series[str] = pa.Field(
        isin=_values(OriginKind), description="`lane` (manifest lane) or `import`."
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
        isin=_values(SourceType), description="real, synthetic (a model wrote it) or human_edited."
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
        nullable=True,
        description="When the response was generated (UTC); lanes require it of synthetic rows.",
        dtype_kwargs=UTC,
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
        isin=_values(ResponseFormat),
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
        isin=_values(ReviewStatus), description="unreviewed, approved, rejected or needs_review."
    )
    reviewer_id: Series[str] = pa.Field(nullable=True, description="Who reviewed the row.")
    reviewed_at: Series[pd.DatetimeTZDtype] = pa.Field(
        nullable=True, description="When the row was reviewed (UTC).", dtype_kwargs=UTC
    )
    license: Series[str] = pa.Field(description="License the row is distributed under (SPDX).")
    consent_basis: Series[str] = pa.Field(description="Why we may use the row.")
    intended_use: Series[str] = pa.Field(
        isin=_values(IntendedUse), description="train, eval, red_team or demo."
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
        isin=_values(PiiScanStatus), description="not_scanned, clean, redacted or flagged."
    )
    manifest_hash: Series[str] = pa.Field(
        str_matches=SHA256_HEX,
        description="SHA-256 of the manifest or import spec file that ingested the row.",
    )

    @pa.dataframe_check
    @classmethod
    def synthetic_rows_name_their_generator(cls, df: pd.DataFrame) -> pd.Series:
        """A synthetic row must name its generator (its prompt hash is required of every row)."""
        is_synthetic = df["source_type"] == SourceType.SYNTHETIC.value
        return ~is_synthetic | df["generator_model"].notna()


class QuarantineRecord(pa.DataFrameModel):
    """One row per input line that was not accepted, with the reason and the raw line."""

    origin_kind: Series[str] = pa.Field(isin=_values(OriginKind), description="lane or import.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    source_file: Series[str] = pa.Field(description="Input file, relative to the data dir.")
    source_line: Series[int] = pa.Field(ge=1, description="1-based line number in the file.")
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


class SourceFileRecord(pa.DataFrameModel):
    """One row per input file read by a lane or import: the ledger that fates reconcile against."""

    origin_kind: Series[str] = pa.Field(isin=_values(OriginKind), description="lane or import.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    source_file: Series[str] = pa.Field(
        unique=True, description="Input file, relative to the data dir."
    )
    lines_read: Series[int] = pa.Field(ge=0, description="Lines read from the file.")
    size_bytes: Series[int] = pa.Field(ge=0, description="File size in bytes.")
    file_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the file's bytes as read."
    )


class RowFateRecord(pa.DataFrameModel):
    """One row per input line: its one fate, the stage that decided it, and why."""

    origin_kind: Series[str] = pa.Field(isin=_values(OriginKind), description="lane or import.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    source_file: Series[str] = pa.Field(description="Input file, relative to the data dir.")
    source_line: Series[int] = pa.Field(ge=1, description="1-based line number in the file.")
    example_id: Series[str] = pa.Field(
        nullable=True, description="Example id, when the line parsed far enough to have one."
    )
    fate: Series[str] = pa.Field(isin=_values(Fate), description="The line's one fate.")
    stage: Series[str] = pa.Field(description="Stage that decided the fate.")
    reason: Series[str] = pa.Field(
        nullable=True, description="Named reason for every fate but accepted/released."
    )
    detail: Series[str] = pa.Field(
        nullable=True, description="Extra: the offending field, `duplicate_of`, the eval item..."
    )


class ExitRecord(pa.DataFrameModel):
    """One row per example a stage after ingest removed: the fate, the stage, and why."""

    example_id: Series[str] = pa.Field(unique=True, description="The removed example.")
    origin_kind: Series[str] = pa.Field(isin=_values(OriginKind), description="lane or import.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    source_file: Series[str] = pa.Field(description="Input file, relative to the data dir.")
    source_line: Series[int] = pa.Field(ge=1, description="1-based line number in the file.")
    fate: Series[str] = pa.Field(isin=_values(Fate), description="The example's fate.")
    stage: Series[str] = pa.Field(description="Stage that removed it.")
    reason: Series[str] = pa.Field(description="Named reason (an enum value of that stage).")
    detail: Series[str] = pa.Field(
        nullable=True, description="Extra: the gate and threshold, `duplicate_of`, the eval item."
    )


class SanitizedRecord(pa.DataFrameModel):
    """One row per example with visible content: hidden reasoning removed, closure format."""

    example_id: Series[str] = pa.Field(unique=True, description="Stable example id.")
    origin_kind: Series[str] = pa.Field(isin=_values(OriginKind), description="lane or import.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    source_benchmark: Series[str] = pa.Field(description="Benchmark family or dataset family.")
    source_file: Series[str] = pa.Field(description="Input file, relative to the data dir.")
    source_line: Series[int] = pa.Field(ge=1, description="1-based line number in the file.")
    prompt_hash: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the prompt as sent (before sanitization)."
    )
    prompt: Series[str] = pa.Field(description="The prompt with hidden reasoning removed.")
    response: Series[str] = pa.Field(
        description="Visible response as ## Plan / ## Code or ## Patch / ## Checks / ## Result."
    )
    post_processing: Series[str] = pa.Field(
        description="Ordered JSON list of transforms applied ({name, ...counts}); never content."
    )
    sections_derived: Series[str] = pa.Field(
        description="Comma-separated closure sections taken from the source."
    )
    sections_absent: Series[str] = pa.Field(
        description="Comma-separated closure sections with nothing in the source (marked absent)."
    )
    hidden_blocks_removed: Series[int] = pa.Field(
        ge=0, description="Hidden-reasoning blocks removed from prompt and response."
    )
    hidden_chars_removed: Series[int] = pa.Field(
        ge=0, description="Characters of hidden reasoning removed from prompt and response."
    )
    fence_parses: Series[str] = pa.Field(
        str_matches=r"^[01.]*$",
        description=(
            "Per closed code fence of the response, in order: 1 parses as Python, 0 does not, "
            ". not parsed by the rewrite (empty when none was); the syntax gate reuses it."
        ),
    )


class GateVerdictRecord(pa.DataFrameModel):
    """One row per sanitized example: gate measurements first, then verdicts, then the fate."""

    example_id: Series[str] = pa.Field(unique=True, description="Stable example id.")
    prompt_chars: Series[int] = pa.Field(description="Prompt length in Unicode code points.")
    prompt_tokens_approx: Series[int] = pa.Field(description="ceil(prompt UTF-8 bytes / 4).")
    response_chars: Series[int] = pa.Field(description="Response length in Unicode code points.")
    response_tokens_approx: Series[int] = pa.Field(description="ceil(response UTF-8 bytes / 4).")
    has_plan: Series[bool] = pa.Field(description="## Plan present with more than the marker.")
    has_code: Series[bool] = pa.Field(description="## Code or ## Patch present, not the marker.")
    has_checks: Series[bool] = pa.Field(description="## Checks present with more than the marker.")
    has_result: Series[bool] = pa.Field(description="## Result present with more than the marker.")
    is_patch: Series[bool] = pa.Field(description="The code section is ## Patch (a unified diff).")
    is_closure_format: Series[bool] = pa.Field(description="Exactly the four sections, in order.")
    code_fence_count: Series[int] = pa.Field(description="Code fences opened.")
    has_unbalanced_fence: Series[bool] = pa.Field(
        description="A fence was still open at a section header."
    )
    ends_in_open_fence: Series[bool] = pa.Field(
        description="The response ends inside an open code fence."
    )
    ends_with_terminal_char: Series[bool] = pa.Field(
        description="Last non-blank character is in the policy's terminal_chars."
    )
    is_truncated: Series[bool] = pa.Field(
        description="truncated_in_code_fence or truncated_at_limit fired."
    )
    refusal_phrase_index: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="First refusal phrase found (index in the policy list)."
    )
    placeholder_pattern_index: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="First placeholder pattern found (index in the policy list)."
    )
    python_blocks_checked: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="Python blocks parsed; empty when not parsed (gated out)."
    )
    python_syntax_error_count: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="Blocks ast.parse rejects; empty when not parsed."
    )
    response_norm_hash: Series[str] = pa.Field(
        nullable=True, description="Fingerprint of the response with ASCII whitespace removed."
    )
    is_structural_ok: Series[bool] = pa.Field(description="No structural reason fired.")
    structural_reason: Series[str] = pa.Field(
        nullable=True, description="Structural GateReason (first hard, else first soft)."
    )
    structural_threshold: Series[str] = pa.Field(
        nullable=True, description="Policy key and value behind structural_reason."
    )
    is_format_ok: Series[bool] = pa.Field(description="No format reason fired.")
    format_reason: Series[str] = pa.Field(
        nullable=True, description="Format GateReason (first hard, else first soft)."
    )
    format_threshold: Series[str] = pa.Field(
        nullable=True, description="Policy key and value behind format_reason."
    )
    is_length_ok: Series[bool] = pa.Field(description="No length reason fired.")
    length_reason: Series[str] = pa.Field(
        nullable=True, description="Length GateReason (first hard, else first soft)."
    )
    length_threshold: Series[str] = pa.Field(
        nullable=True, description="Policy key and value behind length_reason."
    )
    soft_failure_count: Series[int] = pa.Field(
        ge=0, description="Soft reasons that fired; each lowers the score."
    )
    soft_failure_reasons: Series[str] = pa.Field(
        description="Comma-separated soft GateReasons that fired."
    )
    is_gated_out: Series[bool] = pa.Field(
        description="A hard reason fired: the row's fate is gated_out."
    )
    gated_out_gate: Series[str] = pa.Field(
        nullable=True, description="GateName of gated_out_reason."
    )
    gated_out_reason: Series[str] = pa.Field(
        nullable=True, description="The first hard GateReason in precedence order."
    )
    gated_out_threshold: Series[str] = pa.Field(
        nullable=True, description="Policy key and value behind gated_out_reason."
    )

    @pa.dataframe_check
    @classmethod
    def gated_out_rows_name_gate_reason_and_threshold(cls, df: pd.DataFrame) -> pd.Series:
        """Every gated-out row says which gate, which reason and which threshold."""
        named = (
            df["gated_out_gate"].notna()
            & df["gated_out_reason"].notna()
            & df["gated_out_threshold"].notna()
        )
        return ~df["is_gated_out"] | named


class GatedRecord(GateVerdictRecord):
    """One row per sanitized example: where it came from, its gate verdicts and its score."""

    origin_kind: Series[str] = pa.Field(isin=_values(OriginKind), description="lane or import.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    source_benchmark: Series[str] = pa.Field(description="Benchmark family or dataset family.")
    source_file: Series[str] = pa.Field(description="Input file, relative to the data dir.")
    source_line: Series[int] = pa.Field(ge=1, description="1-based line number in the file.")
    prompt_hash: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the prompt as sent."
    )
    other_prompts_sharing_response: Series[int] = pa.Field(
        ge=0, description="Other prompts whose rows have the same normalized response (soft)."
    )
    curation_score: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Documented function of the measurements in [0, 1]; 0 when gated out.",
    )
    policy_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the policy file that decided."
    )


class DeduplicatedRecord(pa.DataFrameModel):
    """One row per example that passed the gates and survived prompt dedup (unique prompt)."""

    example_id: Series[str] = pa.Field(unique=True, description="Stable example id.")
    origin_kind: Series[str] = pa.Field(isin=_values(OriginKind), description="lane or import.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    source_benchmark: Series[str] = pa.Field(description="Benchmark family or dataset family.")
    source_file: Series[str] = pa.Field(description="Input file, relative to the data dir.")
    source_line: Series[int] = pa.Field(ge=1, description="1-based line number in the file.")
    prompt_hash: Series[str] = pa.Field(
        unique=True, str_matches=SHA256_HEX, description="SHA-256 of the prompt; one row each."
    )
    curation_score: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0}, description="The row's curation score."
    )
    duplicate_group_size: Series[int] = pa.Field(
        ge=1, description="Rows that shared this prompt hash (1 when the prompt was unique)."
    )


class HumanReviewRecord(pa.DataFrameModel):
    """One row per reviewed example: its latest human verdict and the exact text it was given on.

    Imported from review sheets (`born review import`). A verdict applies to a row only while
    the row's `prompt_hash` and the SHA-256 of its sanitized response are those the reviewer saw.
    Unique key: `example_id`.
    """

    example_id: Series[str] = pa.Field(
        unique=True, str_matches=r"^ex_[0-9a-f]{24}$", description="The reviewed example."
    )
    human_review_status: Series[str] = pa.Field(
        isin=[s.value for s in ReviewStatus if s is not ReviewStatus.UNREVIEWED],
        description="approved, rejected or needs_review (the latest verdict).",
    )
    reviewer_id: Series[str] = pa.Field(
        str_length={"min_value": 1}, description="Who gave the verdict."
    )
    reviewed_at: Series[pd.DatetimeTZDtype] = pa.Field(
        description="When the verdict was imported (UTC).", dtype_kwargs=UTC
    )
    prompt_hash: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="prompt_hash of the row the reviewer saw."
    )
    response_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the sanitized response the reviewer saw."
    )
    review_sheet: Series[str] = pa.Field(description="File name of the sheet the verdict came in.")
    review_sheet_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of that sheet's bytes as imported."
    )
    notes: Series[str] = pa.Field(nullable=True, description="The reviewer's note, if any.")


class ReleaseRecord(LineageRecord):
    """One row per released example: the full lineage record with the sanitized closure text."""

    response_format: Series[str] = pa.Field(
        isin=[ResponseFormat.CLOSURE.value], description="Always `closure` in a release."
    )
    curation_score: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Curation score in [0, 1] from the gates (see the policy).",
    )


class ContaminationMethod(StrEnum):
    """How a training row was found to contain or claim an eval item (in precedence order)."""

    EXACT_PROMPT = "exact_prompt"
    EXACT_RESPONSE = "exact_response"
    NGRAM = "ngram"
    TASK_ID = "task_id"


class ContaminationVerdictRecord(pa.DataFrameModel):
    """One row per candidate training row: eval-overlap measurements first, then the verdict."""

    example_id: Series[str] = pa.Field(unique=True, description="The checked example.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    source_benchmark: Series[str] = pa.Field(description="Benchmark family or dataset family.")
    ngram_count: Series[int] = pa.Field(
        ge=0,
        description="Word n-gram positions in prompt and response (0: too short for the n-gram "
        "check; only the exact and task-id checks apply).",
    )
    overlap_fraction: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Largest share of one eval text's distinct n-grams found in the row "
        "(0 when none is shared).",
    )
    has_exact_prompt_match: Series[bool] = pa.Field(
        description="The normalized prompt equals an eval text."
    )
    has_exact_response_match: Series[bool] = pa.Field(
        description="The normalized response equals an eval text."
    )
    has_ngram_match: Series[bool] = pa.Field(
        description="overlap_fraction >= contamination.min_overlap_fraction."
    )
    has_task_id_match: Series[bool] = pa.Field(
        description="(source_benchmark, source_id) names an eval item."
    )
    is_contaminated: Series[bool] = pa.Field(
        description="Any match: the row's fate is contaminated."
    )
    method: Series[str] = pa.Field(
        nullable=True,
        isin=_values(ContaminationMethod),
        description="Method of the deciding match.",
    )
    eval_id: Series[str] = pa.Field(nullable=True, description="Eval set of the deciding match.")
    eval_item_id: Series[str] = pa.Field(
        nullable=True, description="Eval item of the deciding match."
    )
    eval_field: Series[str] = pa.Field(
        nullable=True, description="Eval text field of the deciding match (none for task_id)."
    )
    threshold: Series[str] = pa.Field(
        nullable=True, description="Policy keys and values behind an ngram verdict."
    )

    @pa.dataframe_check
    @classmethod
    def contaminated_rows_name_their_match(cls, df: pd.DataFrame) -> pd.Series:
        """A contaminated row names method, eval set and item; a clean row names none."""
        named = df["method"].notna() & df["eval_id"].notna() & df["eval_item_id"].notna()
        any_match = (
            df["has_exact_prompt_match"]
            | df["has_exact_response_match"]
            | df["has_ngram_match"]
            | df["has_task_id_match"]
        )
        return (df["is_contaminated"] == named) & (df["is_contaminated"] == any_match)


class ContaminationMatchRecord(pa.DataFrameModel):
    """One row per (training row, eval item, eval text, method) match: the evidence."""

    example_id: Series[str] = pa.Field(description="The contaminated example.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    eval_id: Series[str] = pa.Field(description="The eval set.")
    eval_item_id: Series[str] = pa.Field(description="The eval item's id.")
    eval_field: Series[str] = pa.Field(
        nullable=True, description="The eval text field matched (none for task_id)."
    )
    method: Series[str] = pa.Field(
        isin=_values(ContaminationMethod), description="How the row matched."
    )
    overlap_fraction: Series[float] = pa.Field(
        nullable=True,
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="For ngram: share of the eval text's distinct n-grams found in the row.",
    )

    class Config:
        """Unique key."""

        unique = ["example_id", "eval_id", "eval_item_id", "eval_field", "method"]


class ContaminationCheckRecord(pa.DataFrameModel):
    """One row per checked training row: everything its checks found, kept for the next run."""

    example_id: Series[str] = pa.Field(unique=True, description="The checked example.")
    source_benchmark: Series[str] = pa.Field(description="The family its task ids were read in.")
    generator_model: Series[str] = pa.Field(
        nullable=True, description="The model its generator overlap was read for."
    )
    row_check: Series[str] = pa.Field(
        description="JSON: n-gram count, best overlap, best overlap per eval set, matches "
        "(deciding first) and eval sets sharing the generator."
    )


class ContaminationReportRecord(pa.DataFrameModel):
    """One row per eval set and source (lane or import): rows checked, matched and excluded."""

    eval_id: Series[str] = pa.Field(description="The eval set.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    rows_checked: Series[int] = pa.Field(ge=0, description="Rows of the source checked.")
    rows_matched: Series[int] = pa.Field(
        ge=0, description="Rows with any match against this eval set."
    )
    rows_excluded: Series[int] = pa.Field(
        ge=0, description="Contaminated rows whose verdict names this eval set (sums to totals)."
    )
    exact_prompt_rows: Series[int] = pa.Field(ge=0, description="Rows with an exact_prompt match.")
    exact_response_rows: Series[int] = pa.Field(
        ge=0, description="Rows with an exact_response match."
    )
    ngram_rows: Series[int] = pa.Field(ge=0, description="Rows with an ngram match.")
    task_id_rows: Series[int] = pa.Field(ge=0, description="Rows with a task_id match.")
    generator_overlap_rows: Series[int] = pa.Field(
        ge=0, description="Rows generated by the model that generated this eval set."
    )
    max_overlap_fraction: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Largest n-gram overlap of a row with one of this eval set's texts.",
    )
    top_matches: Series[str] = pa.Field(
        description="JSON list of the strongest matches: example_id, eval_item_id, eval_field, "
        "method, overlap_fraction."
    )

    class Config:
        """Unique key."""

        unique = ["eval_id", "origin_id"]


class PiiVerdictRecord(pa.DataFrameModel):
    """One row per candidate training row: what the PII and secrets scan found and did."""

    example_id: Series[str] = pa.Field(unique=True, description="The scanned example.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    contains_real_pii: Series[bool] = pa.Field(
        description="A real (non-placeholder) finding was made, redacted or flagged."
    )
    pii_scan_status: Series[str] = pa.Field(
        isin=[s.value for s in PiiScanStatus if s is not PiiScanStatus.NOT_SCANNED],
        description="clean, redacted (every real finding replaced) or flagged (one remains).",
    )
    findings: Series[str] = pa.Field(
        description="JSON counts per kind (redacted, flagged, placeholder); never the text."
    )
    redaction: Series[str] = pa.Field(
        nullable=True, description="The redact_pii transform as JSON; empty if nothing changed."
    )


class RedactedTextRecord(pa.DataFrameModel):
    """One row per example whose text the PII scan changed: the redacted prompt and response."""

    example_id: Series[str] = pa.Field(unique=True, description="The redacted example.")
    prompt: Series[str] = pa.Field(description="The prompt with typed placeholders.")
    response: Series[str] = pa.Field(description="The response with typed placeholders.")
