"""Governance tables: contamination verdicts, evidence and report; PII verdicts and redactions."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.columns import ConversationColumns, VerdictColumns
from born_assets.schemas.vocabulary import ContaminationMethod, PiiScanStatus, values


class ContaminationVerdictRecord(VerdictColumns):
    """One row per candidate training row: eval-overlap measurements first, then the verdict."""

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
    max_similarity: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Largest estimated Jaccard similarity (MinHash, similarity.shingle_words) "
        "of the prompt to one eval text (0 when not measured).",
    )
    has_similar_match: Series[bool] = pa.Field(
        description="max_similarity >= contamination.similarity_threshold (when one is set)."
    )
    is_contaminated: Series[bool] = pa.Field(
        description="Any match: the row's fate is contaminated."
    )
    method: Series[str] = pa.Field(
        nullable=True,
        isin=values(ContaminationMethod),
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
            | df["has_similar_match"]
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
        isin=values(ContaminationMethod), description="How the row matched."
    )
    overlap_fraction: Series[float] = pa.Field(
        nullable=True,
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="For ngram: share of the eval text's distinct n-grams found in the row; "
        "for similar: the estimated similarity of the prompt to the eval text.",
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
    similar_rows: Series[int] = pa.Field(ge=0, description="Rows with a similar match.")
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


class ContaminationNearestRecord(pa.DataFrameModel):
    """One row per eval text and rank: its nearest candidate training rows by MinHash similarity.

    Lists the `contamination.nearest_rows` most similar prompts of every eval text, blocked or
    not, so a reviewer sees what came close where lexical n-gram overlap sees nothing.
    """

    eval_id: Series[str] = pa.Field(description="The eval set.")
    eval_item_id: Series[str] = pa.Field(description="The eval item's id.")
    eval_field: Series[str] = pa.Field(description="The eval text field compared.")
    rank: Series[int] = pa.Field(ge=1, description="1 = the most similar training row.")
    example_id: Series[str] = pa.Field(description="The training row (a dedup survivor).")
    origin_id: Series[str] = pa.Field(description="The lane id or import id of the row.")
    similarity: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Estimated Jaccard similarity of the row's prompt to the eval text.",
    )
    is_blocked: Series[bool] = pa.Field(
        description="similarity >= contamination.similarity_threshold: the row is excluded."
    )

    class Config:
        """Unique key."""

        unique = ["eval_id", "eval_item_id", "eval_field", "rank"]


class PiiVerdictRecord(VerdictColumns):
    """One row per candidate training row: what the PII and secrets scan found and did."""

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


class RedactedTextRecord(ConversationColumns):
    """One row per example whose text the PII scan changed: its redacted prompt, response, messages.

    The tools are carried as they were, so the release takes a row's conversation from one place.
    """

    example_id: Series[str] = pa.Field(unique=True, description="The redacted example.")
    prompt: Series[str] = pa.Field(description="The prompt with typed placeholders.")
    response: Series[str] = pa.Field(description="The response with typed placeholders.")
