"""The curation tables: sanitized text, gate verdicts and scores, dedup survivors."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.columns import SHA256_HEX, ConversationColumns, ExampleColumns, reads
from born_assets.schemas.vocabulary import RowKind, values


class SanitizedRecord(ConversationColumns, ExampleColumns):
    """One row per example with visible content: hidden reasoning removed, closure format."""

    prompt_hash: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the prompt as sent (before sanitization)."
    )
    prompt: Series[str] = pa.Field(description="The prompt with hidden reasoning removed.")
    response: Series[str] = pa.Field(
        description="Visible response as ## Plan / ## Code or ## Patch / ## Checks / ## Result."
    )
    response_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX,
        description=(
            "SHA-256 of the response (UTF-8): what a release joins reviews on, unless the PII "
            "step redacted the response."
        ),
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
    row_kind: Series[str] = pa.Field(
        isin=values(RowKind),
        description="code_task, tool_use or chat: which gates.kinds rules judged the row.",
    )
    tool_call_count: Series[int] = pa.Field(ge=0, description="Tool calls in the messages.")
    tool_result_count: Series[int] = pa.Field(ge=0, description="Tool results in the messages.")
    undeclared_tool_calls: Series[int] = pa.Field(
        ge=0, description="Calls naming a tool the row's `tools` does not declare."
    )
    tool_argument_json_errors: Series[int] = pa.Field(
        ge=0, description="Calls whose arguments are not a JSON object."
    )
    tool_argument_schema_errors: Series[int] = pa.Field(
        ge=0, description="Calls whose arguments fail the declared tool's JSON Schema."
    )
    orphan_tool_results: Series[int] = pa.Field(
        ge=0, description="Tool results that answer no earlier call."
    )
    unanswered_tool_calls: Series[int] = pa.Field(
        ge=0, description="Calls without a result, outside the last assistant message."
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
    is_tool_use_ok: Series[bool] = pa.Field(description="No tool-use reason fired.")
    tool_use_reason: Series[str] = pa.Field(
        nullable=True, description="Tool-use GateReason (first hard, else first soft)."
    )
    tool_use_threshold: Series[str] = pa.Field(
        nullable=True, description="Policy key and rule behind tool_use_reason."
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
    @reads("is_gated_out", "gated_out_gate", "gated_out_reason", "gated_out_threshold")
    def gated_out_rows_name_gate_reason_and_threshold(cls, df: pd.DataFrame) -> pd.Series:
        """Every gated-out row says which gate, which reason and which threshold."""
        named = (
            df["gated_out_gate"].notna()
            & df["gated_out_reason"].notna()
            & df["gated_out_threshold"].notna()
        )
        return ~df["is_gated_out"] | named


class GatedRecord(ExampleColumns, GateVerdictRecord):
    """One row per sanitized example: where it came from, its gate verdicts and its score."""

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


class DeduplicatedRecord(ExampleColumns):
    """One row per example that passed the gates and survived prompt dedup (unique prompt)."""

    prompt_hash: Series[str] = pa.Field(
        unique=True, str_matches=SHA256_HEX, description="SHA-256 of the prompt; one row each."
    )
    curation_score: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0}, description="The row's curation score."
    )
    duplicate_group_size: Series[int] = pa.Field(
        ge=1, description="Rows that shared this prompt hash (1 when the prompt was unique)."
    )
    near_duplicate_count: Series[int] = pa.Field(
        ge=0, description="Rows removed as near duplicates of this one (see near_duplicates)."
    )


class NearDuplicateRecord(pa.DataFrameModel):
    """One row per example removed as a near duplicate: its survivor and their similarity."""

    example_id: Series[str] = pa.Field(unique=True, description="The removed example.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id it came from.")
    duplicate_of: Series[str] = pa.Field(description="The surviving example it duplicates.")
    estimated_similarity: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="MinHash estimate of the Jaccard similarity of their shingle sets.",
    )
    threshold: Series[str] = pa.Field(
        description="Policy keys and values behind the decision (threshold, shingles, bands)."
    )
