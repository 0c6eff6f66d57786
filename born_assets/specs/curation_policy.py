"""The curation sections of the policy: the gates, the curation_score weights, the dedup order.

`born_assets.curation` acts on these; the vocabularies they name (gate reasons, closure sections,
row kinds, dedup keys) are enums, so a policy can only name what the code knows.

A row is judged by what it is (`RowKind`: code task, tool use, chat): `gates.kinds.<kind>` sets
its required closure sections, partial length bounds and reason severities. A rule resolves from
the most specific place that sets it: lengths from `gates.length.<family>`, then
`gates.kinds.<kind>.length`, then `gates.length.default`; severities from
`gates.kinds.<kind>.reason_severity`, then `gates.reason_severity`, then `gates.severity`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from born_assets.schemas.reasons import GateName, GateReason, Severity
from born_assets.schemas.vocabulary import RowKind
from born_assets.specs.common import (
    NonEmptyStr,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    StrictModel,
    UnitFloat,
    key_error,
    require_every,
)
from born_assets.text.closure import Section

LENGTH_FIELDS = (
    "min_prompt_chars",
    "max_prompt_chars",
    "min_prompt_tokens",
    "max_prompt_tokens",
    "min_response_chars",
    "max_response_chars",
    "min_response_tokens",
    "max_response_tokens",
)


class ScanTarget(StrEnum):
    """The texts a placeholder pattern can be searched in."""

    PROMPT = "prompt"
    RESPONSE_PROSE = "response_prose"
    RESPONSE = "response"


class DedupKey(StrEnum):
    """Keys the survivor ordering may use."""

    CURATION_SCORE = "curation_score"
    LANE_PRIORITY = "lane_priority"
    GENERATION_TIMESTAMP = "generation_timestamp"
    EXAMPLE_ID = "example_id"


class SortDirection(StrEnum):
    """Direction of one survivor-ordering key."""

    ASC = "asc"
    DESC = "desc"


class StructuralGatePolicy(StrictModel):
    """Structural gate: which code blocks must parse (required sections are per kind)."""

    python_languages: tuple[NonEmptyStr, ...]
    python_families: tuple[NonEmptyStr, ...]

    @field_validator("python_languages")
    @classmethod
    def _lowercase_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(language.lower() for language in value)


class PlaceholderPattern(StrictModel):
    """One leftover-template pattern (a Python regex) and the texts it is searched in."""

    pattern: NonEmptyStr
    targets: tuple[ScanTarget, ...] = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as error:
            message = "not a valid regex: {error}"
            raise PydanticCustomError("regex", message, {"error": str(error)}) from error
        if compiled.search("") is not None:
            raise PydanticCustomError("regex", "must not match the empty string")
        return value


class TruncationPolicy(StrictModel):
    """When a response counts as cut off (see `born_assets.curation.gates`)."""

    terminal_chars: NonEmptyStr
    max_chars_margin: NonNegativeInt
    token_limits: tuple[PositiveInt, ...]
    token_limit_tolerance: Annotated[float, Field(strict=True, ge=0, le=0.5)]


class FormatGatePolicy(StrictModel):
    """Format gate: placeholder patterns, refusal phrases and truncation rules."""

    placeholder_patterns: tuple[PlaceholderPattern, ...]
    refusal_phrases: tuple[NonEmptyStr, ...]
    truncation: TruncationPolicy


class LengthBounds(StrictModel):
    """Length bounds for one benchmark family; a family entry may set only some keys."""

    min_prompt_chars: NonNegativeInt | None = None
    max_prompt_chars: PositiveInt | None = None
    min_prompt_tokens: NonNegativeInt | None = None
    max_prompt_tokens: PositiveInt | None = None
    min_response_chars: NonNegativeInt | None = None
    max_response_chars: PositiveInt | None = None
    min_response_tokens: NonNegativeInt | None = None
    max_response_tokens: PositiveInt | None = None


class ResolvedLengthBounds(StrictModel):
    """Every length bound of one family, with the policy key each value came from."""

    family: str
    values: dict[str, int]
    keys: dict[str, str]

    def threshold(self, name: str) -> str:
        """`<policy key>=<value>` of one bound, as recorded with a failing row."""
        return f"{self.keys[name]}={self.values[name]}"


class LengthPolicy(StrictModel):
    """`gates.length`: a complete `default` entry plus one partial entry per benchmark family."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, LengthBounds] = Field(init=False)

    default: LengthBounds

    @model_validator(mode="after")
    def _default_complete_and_ordered(self) -> Self:
        for name in LENGTH_FIELDS:
            if getattr(self.default, name) is None:
                raise key_error(f"default.{name}", "required")
        for family in ("default", *self.families):
            bounds = self.resolve(family)
            for side in ("prompt_chars", "prompt_tokens", "response_chars", "response_tokens"):
                low, high = bounds.values[f"min_{side}"], bounds.values[f"max_{side}"]
                if low > high:
                    raise key_error(
                        f"{family}.min_{side}", f"must be <= max_{side} ({low} > {high})"
                    )
        return self

    @property
    def families(self) -> Mapping[str, LengthBounds]:
        """The per-family entries (every key of `gates.length` but `default`)."""
        return self.__pydantic_extra__ or {}

    def resolve(
        self, family: str | None, kind: tuple[str, LengthBounds] | None = None
    ) -> ResolvedLengthBounds:
        """The bounds for `family`: its own keys, then the row kind's, then `default`'s.

        `kind` is the policy key of the kind's bounds and the bounds.
        """
        entry = self.families.get(family) if family is not None else None
        places = [(f"gates.length.{family}", entry), kind, ("gates.length.default", self.default)]
        values: dict[str, int] = {}
        keys: dict[str, str] = {}
        for name in LENGTH_FIELDS:
            for key, bounds in (place for place in places if place and place[1] is not None):
                value = getattr(bounds, name)
                if value is not None:
                    values[name] = int(value)
                    keys[name] = f"{key}.{name}"
                    break
        return ResolvedLengthBounds(
            family=family if entry is not None and family else "default", values=values, keys=keys
        )


class KindPolicy(StrictModel):
    """`gates.kinds.<kind>`: what a row of this kind must hold and how strictly it is judged."""

    families: tuple[NonEmptyStr, ...] = ()
    """For `code_task`: the benchmark families whose rows are code tasks."""
    required_sections: tuple[Section, ...] = ()
    """Closure sections that must be present and hold more than the absent marker."""
    length: LengthBounds = LengthBounds()
    """Length bounds for the kind (a family's own bounds win)."""
    reason_severity: dict[GateReason, Severity] = Field(default_factory=dict)
    """Severity overrides for the kind."""


class ToolUseGatePolicy(StrictModel):
    """`gates.tool_use`: the tool-use structure checks (see `born_assets.curation.tool_use`)."""

    require_declared_tools: bool = False
    """A tool call in a row that declares no tools counts as `undeclared_tool`."""
    validate_arguments: bool = True
    """Arguments must validate against the declared tool's JSON Schema, when it is a valid one."""


class GatesPolicy(StrictModel):
    """`gates`: severities, the settings of each gate, and the rules of each row kind."""

    severity: dict[GateName, Severity]
    reason_severity: dict[GateReason, Severity] = Field(default_factory=dict)
    structural: StructuralGatePolicy
    format: FormatGatePolicy
    length: LengthPolicy
    tool_use: ToolUseGatePolicy = ToolUseGatePolicy()
    kinds: dict[RowKind, KindPolicy]

    @field_validator("severity")
    @classmethod
    def _every_gate(cls, value: dict[GateName, Severity]) -> dict[GateName, Severity]:
        require_every(value, GateName)
        return value

    @field_validator("kinds")
    @classmethod
    def _every_kind(cls, value: dict[RowKind, KindPolicy]) -> dict[RowKind, KindPolicy]:
        require_every(value, RowKind)
        for kind, rules in value.items():
            if rules.families and kind is not RowKind.CODE_TASK:
                raise key_error(f"{kind.value}.families", "only code_task names families")
        return value

    def severity_of(self, reason: GateReason, kind: RowKind | None = None) -> Severity:
        """The severity of `reason` for a row of `kind`.

        The kind's override, else the reason's, else its gate's severity.
        """
        if kind is not None and reason in self.kinds[kind].reason_severity:
            return self.kinds[kind].reason_severity[reason]
        override = self.reason_severity.get(reason)
        return override if override is not None else self.severity[reason.gate]

    def kind_of(self, family: str | None, uses_tools: bool) -> RowKind:
        """A row's kind (see `RowKind`)."""
        if uses_tools:
            return RowKind.TOOL_USE
        if family in self.kinds[RowKind.CODE_TASK].families:
            return RowKind.CODE_TASK
        return RowKind.CHAT


class ScorePolicy(StrictModel):
    """`score`: the weights of the curation_score formula (see `born_assets.curation.score`)."""

    section_weights: dict[Section, NonNegativeFloat]
    soft_failure_factor: UnitFloat
    response_duplicate_weight: NonNegativeFloat

    @field_validator("section_weights")
    @classmethod
    def _every_section(cls, value: dict[Section, float]) -> dict[Section, float]:
        require_every(value, Section)
        if sum(value.values()) <= 0:
            raise PydanticCustomError("policy_key", "weights must sum to > 0")
        return value


class SurvivorKey(StrictModel):
    """One key of the dedup survivor ordering, written `"<key> asc|desc"` in YAML."""

    key: DedupKey
    direction: SortDirection

    @model_validator(mode="before")
    @classmethod
    def _parse_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = value.split()
        if len(parts) not in (1, 2):
            raise PydanticCustomError("survivor_key", "expected '<key> asc' or '<key> desc'")
        return {"key": parts[0], "direction": parts[1] if len(parts) == 2 else "asc"}

    def __str__(self) -> str:
        return f"{self.key.value} {self.direction.value}"


class DedupPolicy(StrictModel):
    """`dedup`: the survivor ordering for exact prompt duplicates and the lane priorities."""

    survivor_order: tuple[SurvivorKey, ...] = Field(min_length=1)
    lane_priority: dict[NonEmptyStr, Annotated[int, Field(strict=True)]] = Field(
        default_factory=dict
    )
    default_lane_priority: Annotated[int, Field(strict=True)]

    @field_validator("survivor_order")
    @classmethod
    def _total_order(cls, value: tuple[SurvivorKey, ...]) -> tuple[SurvivorKey, ...]:
        seen: set[DedupKey] = set()
        for index, item in enumerate(value):
            if item.key in seen:
                raise key_error(f"[{index}]", f"key '{item.key.value}' listed twice")
            seen.add(item.key)
        if value[-1].key is not DedupKey.EXAMPLE_ID:
            raise PydanticCustomError(
                "policy_key",
                "must end with 'example_id' (the unique tie-breaker that makes survivors "
                "independent of input order)",
            )
        return value
