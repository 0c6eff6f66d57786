"""The gate thresholds of one policy, compiled once; each names the policy key that set it.

A threshold text (`gates.length.default.min_prompt_chars=20`,
`gates.format.refusal_phrases[0]=...`) is what a verdict reports as `<gate>_threshold`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from born_assets.schemas.reasons import GateReason, Severity
from born_assets.schemas.vocabulary import RowKind
from born_assets.specs.policy import Policy
from born_assets.text.closure import Section

LENGTH_RULES = (  # reason, index into the measures tuple, policy field
    (GateReason.PROMPT_TOO_SHORT, 0, "min_prompt_chars"),
    (GateReason.PROMPT_TOO_SHORT, 1, "min_prompt_tokens"),
    (GateReason.PROMPT_TOO_LONG, 0, "max_prompt_chars"),
    (GateReason.PROMPT_TOO_LONG, 1, "max_prompt_tokens"),
    (GateReason.RESPONSE_TOO_SHORT, 2, "min_response_chars"),
    (GateReason.RESPONSE_TOO_SHORT, 3, "min_response_tokens"),
    (GateReason.RESPONSE_TOO_LONG, 2, "max_response_chars"),
    (GateReason.RESPONSE_TOO_LONG, 3, "max_response_tokens"),
)
_PLACEHOLDERS = "gates.format.placeholder_patterns"
_REFUSALS = "gates.format.refusal_phrases"
_NOT_TERMINAL = "last char not in gates.format.truncation.terminal_chars"


@dataclass(slots=True)
class FamilyRules:
    """One family's length limits (reason, measure, is_min, limit, threshold) and cut-off."""

    limits: list[tuple[GateReason, int, bool, int, str]]
    is_python: bool
    truncation_chars: int
    truncation_rule: str


class GateRules:
    """The thresholds compiled from one policy; `family` resolves a family's limits once."""

    def __init__(self, policy: Policy) -> None:
        gates, fmt = policy.gates, policy.gates.format
        self._policy = policy
        self.hard = {
            kind: {r: gates.severity_of(r, kind) is Severity.HARD for r in GateReason}
            for kind in RowKind
        }
        self.required: dict[RowKind, tuple[Section, ...]] = {
            kind: gates.kinds[kind].required_sections for kind in RowKind
        }
        self.python_languages = frozenset(gates.structural.python_languages)
        self.python_families = frozenset(gates.structural.python_families)
        self.placeholders = [
            (i, re.compile(item.pattern), item.targets, f"{_PLACEHOLDERS}[{i}]={item.pattern}")
            for i, item in enumerate(fmt.placeholder_patterns)
        ]
        self.refusals = [
            (i, phrase.lower().replace("\u2019", "'"), f"{_REFUSALS}[{i}]={phrase}")
            for i, phrase in enumerate(fmt.refusal_phrases)
        ]
        self.terminal = frozenset(fmt.truncation.terminal_chars)
        tolerance = fmt.truncation.token_limit_tolerance
        self.token_windows = [
            (
                limit * (1 - tolerance),
                limit * (1 + tolerance),
                f"{_NOT_TERMINAL} and response_tokens_approx within "
                f"gates.format.truncation.token_limit_tolerance={tolerance} of {limit}",
            )
            for limit in fmt.truncation.token_limits
        ]
        self._families: dict[tuple[str | None, RowKind], FamilyRules] = {}

    def kind_of(self, family: str | None, uses_tools: bool) -> RowKind:
        """A row's kind (`RowKind`)."""
        return self._policy.gates.kind_of(family, uses_tools)

    def family(self, family: str | None, kind: RowKind) -> FamilyRules:
        """The limits of a family's rows of one kind, resolved on first use."""
        rules = self._families.get((family, kind))
        if rules is None:
            kind_bounds = (
                f"gates.kinds.{kind.value}.length",
                self._policy.gates.kinds[kind].length,
            )
            bounds = self._policy.gates.length.resolve(family, kind_bounds)
            limits = [
                (reason, at, name[:4] == "min_", bounds.values[name], bounds.threshold(name))
                for reason, at, name in LENGTH_RULES
            ]
            margin = self._policy.gates.format.truncation.max_chars_margin
            cutoff = bounds.values["max_response_chars"] - margin
            rule = (
                f"{_NOT_TERMINAL} and response_chars >= {bounds.keys['max_response_chars']} - "
                f"gates.format.truncation.max_chars_margin = {cutoff}"
            )
            rules = FamilyRules(limits, family in self.python_families, cutoff, rule)
            self._families[(family, kind)] = rules
        return rules
