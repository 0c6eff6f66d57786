"""The reasons a gate fails (in reporting precedence), the gates they belong to, their severities.

The policy names these (`gates.severity`, `gates.reason_severity`), so it can only name reasons the
gates know; `born_assets.curation.gates` reports them in the `gated` table. `DedupReason` names
why dedup removed a row.
"""

from __future__ import annotations

from enum import StrEnum


class GateName(StrEnum):
    """The gates; each `GateReason` belongs to one."""

    STRUCTURAL = "structural"
    FORMAT = "format"
    LENGTH = "length"
    TOOL_USE = "tool_use"


class GateReason(StrEnum):
    """Why a gate failed. Member order is the reporting precedence: root causes first.

    A refusal or a cut-off response explains its missing sections, not the other way round.
    """

    REFUSAL = "refusal"
    TRUNCATED_IN_CODE_FENCE = "truncated_in_code_fence"
    TEMPLATE_PLACEHOLDER = "template_placeholder"
    PROMPT_TOO_SHORT = "prompt_too_short"
    PROMPT_TOO_LONG = "prompt_too_long"
    RESPONSE_TOO_SHORT = "response_too_short"
    RESPONSE_TOO_LONG = "response_too_long"
    TOOL_ARGUMENTS_NOT_JSON = "tool_arguments_not_json"
    UNDECLARED_TOOL = "undeclared_tool"
    TOOL_ARGUMENTS_INVALID = "tool_arguments_invalid"
    ORPHAN_TOOL_RESULT = "orphan_tool_result"
    UNANSWERED_TOOL_CALL = "unanswered_tool_call"
    MISSING_SECTION = "missing_section"
    EMPTY_SECTION = "empty_section"
    NOT_CLOSURE_FORMAT = "not_closure_format"
    UNBALANCED_CODE_FENCE = "unbalanced_code_fence"
    TRUNCATED_AT_LIMIT = "truncated_at_limit"
    PYTHON_SYNTAX_ERROR = "python_syntax_error"

    @property
    def gate(self) -> GateName:
        """The gate this reason belongs to."""
        return _REASON_GATE[self]


_REASON_GATE = {
    GateReason.REFUSAL: GateName.FORMAT,
    GateReason.TRUNCATED_IN_CODE_FENCE: GateName.FORMAT,
    GateReason.TEMPLATE_PLACEHOLDER: GateName.FORMAT,
    GateReason.PROMPT_TOO_SHORT: GateName.LENGTH,
    GateReason.PROMPT_TOO_LONG: GateName.LENGTH,
    GateReason.RESPONSE_TOO_SHORT: GateName.LENGTH,
    GateReason.RESPONSE_TOO_LONG: GateName.LENGTH,
    GateReason.TOOL_ARGUMENTS_NOT_JSON: GateName.TOOL_USE,
    GateReason.UNDECLARED_TOOL: GateName.TOOL_USE,
    GateReason.TOOL_ARGUMENTS_INVALID: GateName.TOOL_USE,
    GateReason.ORPHAN_TOOL_RESULT: GateName.TOOL_USE,
    GateReason.UNANSWERED_TOOL_CALL: GateName.TOOL_USE,
    GateReason.MISSING_SECTION: GateName.STRUCTURAL,
    GateReason.EMPTY_SECTION: GateName.STRUCTURAL,
    GateReason.NOT_CLOSURE_FORMAT: GateName.FORMAT,
    GateReason.UNBALANCED_CODE_FENCE: GateName.STRUCTURAL,
    GateReason.TRUNCATED_AT_LIMIT: GateName.FORMAT,
    GateReason.PYTHON_SYNTAX_ERROR: GateName.STRUCTURAL,
}


class Severity(StrEnum):
    """Hard reasons gate the row out; soft reasons only lower its curation_score."""

    HARD = "hard"
    SOFT = "soft"


class DedupReason(StrEnum):
    """Why dedup removed a row (its fate is `duplicate`; the detail names the survivor)."""

    DUPLICATE_PROMPT = "duplicate_prompt"  # same prompt_hash as the survivor
    NEAR_DUPLICATE = "near_duplicate"  # estimated similarity >= near_dedup.threshold
