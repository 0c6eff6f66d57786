"""The curation policy (`data/policy.yaml`): typed, validated at load, hashed for the release.

Every threshold that decides a row's fate lives in the policy file, not in code. `Policy.load`
reads the YAML, validates it with the pydantic models below (unknown keys are errors, so a typo
never silently falls back to a default) and records the SHA-256 of the file bytes as
`Policy.content_hash`, which the release writes into `release.json`.

A bad value raises `PolicyError` whose message names the file and the dotted key, one problem per
line, e.g. ``data/policy.yaml: gates.length.default.max_response_chars: must be > 0``.

The vocabularies the policy refers to (gate names, gate reasons, severities, closure sections,
dedup keys) are the enums of the modules that act on them (`born_assets.curation.gates` and
`born_assets.curation.dedup`), so a policy can only name reasons and keys the code knows.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from born_assets.curation.dedup import DedupKey, SortDirection
from born_assets.curation.gates import GateName, GateReason, ScanTarget, Section, Severity
from born_assets.governance.pii import PiiPolicy
from born_assets.schemas import IntendedUse

__all__ = [
    "DedupPolicy",
    "FormatGatePolicy",
    "GatesPolicy",
    "LengthBounds",
    "LengthPolicy",
    "PlaceholderPattern",
    "Policy",
    "PolicyError",
    "ResolvedLengthBounds",
    "ReviewPolicy",
    "ScorePolicy",
    "StructuralGatePolicy",
    "SurvivorKey",
    "TruncationPolicy",
]

PositiveInt = Annotated[int, Field(strict=True, gt=0)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
NonNegativeFloat = Annotated[float, Field(strict=True, ge=0)]
UnitFloat = Annotated[float, Field(strict=True, ge=0, le=1)]
NonEmptyStr = Annotated[str, Field(strict=True, min_length=1)]

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
_SUBKEY = "subkey"


def _key_error(subkey: str, message: str) -> PydanticCustomError:
    """An error whose dotted key is the validator's location plus `subkey`."""
    return PydanticCustomError("policy_key", message, {_SUBKEY: subkey})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StructuralGatePolicy(_Model):
    """Structural gate: required closure sections and which code blocks must parse."""

    required_sections: tuple[Section, ...]
    python_languages: tuple[NonEmptyStr, ...]
    python_families: tuple[NonEmptyStr, ...]

    @field_validator("python_languages")
    @classmethod
    def _lowercase_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(language.lower() for language in value)


class PlaceholderPattern(_Model):
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


class TruncationPolicy(_Model):
    """When a response counts as cut off (see `born_assets.curation.gates`)."""

    terminal_chars: NonEmptyStr
    max_chars_margin: NonNegativeInt
    token_limits: tuple[PositiveInt, ...]
    token_limit_tolerance: Annotated[float, Field(strict=True, ge=0, le=0.5)]


class FormatGatePolicy(_Model):
    """Format gate: placeholder patterns, refusal phrases and truncation rules."""

    placeholder_patterns: tuple[PlaceholderPattern, ...]
    refusal_phrases: tuple[NonEmptyStr, ...]
    truncation: TruncationPolicy


class LengthBounds(_Model):
    """Length bounds for one benchmark family; a family entry may set only some keys."""

    min_prompt_chars: NonNegativeInt | None = None
    max_prompt_chars: PositiveInt | None = None
    min_prompt_tokens: NonNegativeInt | None = None
    max_prompt_tokens: PositiveInt | None = None
    min_response_chars: NonNegativeInt | None = None
    max_response_chars: PositiveInt | None = None
    min_response_tokens: NonNegativeInt | None = None
    max_response_tokens: PositiveInt | None = None


class ResolvedLengthBounds(_Model):
    """Every length bound of one family, with the policy key each value came from."""

    family: str
    values: dict[str, int]
    keys: dict[str, str]

    def threshold(self, name: str) -> str:
        """`<policy key>=<value>` of one bound, as recorded with a failing row."""
        return f"{self.keys[name]}={self.values[name]}"


class LengthPolicy(_Model):
    """`gates.length`: a complete `default` entry plus one partial entry per benchmark family."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, LengthBounds] = Field(init=False)

    default: LengthBounds

    @model_validator(mode="after")
    def _default_complete_and_ordered(self) -> Self:
        for name in LENGTH_FIELDS:
            if getattr(self.default, name) is None:
                raise _key_error(f"default.{name}", "required")
        for family in ("default", *self.families):
            bounds = self.resolve(family)
            for side in ("prompt_chars", "prompt_tokens", "response_chars", "response_tokens"):
                low, high = bounds.values[f"min_{side}"], bounds.values[f"max_{side}"]
                if low > high:
                    raise _key_error(
                        f"{family}.min_{side}", f"must be <= max_{side} ({low} > {high})"
                    )
        return self

    @property
    def families(self) -> Mapping[str, LengthBounds]:
        """The per-family entries (every key of `gates.length` but `default`)."""
        return self.__pydantic_extra__ or {}

    def resolve(self, family: str | None) -> ResolvedLengthBounds:
        """The bounds for `family`: its own keys where set, `default` for the rest."""
        entry = self.families.get(family) if family is not None else None
        values: dict[str, int] = {}
        keys: dict[str, str] = {}
        for name in LENGTH_FIELDS:
            own = getattr(entry, name) if entry is not None else None
            source = family if own is not None else "default"
            value = own if own is not None else getattr(self.default, name)
            values[name] = int(value)
            keys[name] = f"gates.length.{source}.{name}"
        return ResolvedLengthBounds(
            family=family if entry is not None and family else "default", values=values, keys=keys
        )


class GatesPolicy(_Model):
    """`gates`: severities and the settings of the structural, format and length gates."""

    severity: dict[GateName, Severity]
    reason_severity: dict[GateReason, Severity] = Field(default_factory=dict)
    structural: StructuralGatePolicy
    format: FormatGatePolicy
    length: LengthPolicy

    @field_validator("severity")
    @classmethod
    def _every_gate(cls, value: dict[GateName, Severity]) -> dict[GateName, Severity]:
        for gate in GateName:
            if gate not in value:
                raise _key_error(gate.value, "required")
        return value

    def severity_of(self, reason: GateReason) -> Severity:
        """The severity of `reason`: its override, else its gate's severity."""
        override = self.reason_severity.get(reason)
        return override if override is not None else self.severity[reason.gate]


class ScorePolicy(_Model):
    """`score`: the weights of the curation_score formula (see `born_assets.curation.score`)."""

    section_weights: dict[Section, NonNegativeFloat]
    soft_failure_factor: UnitFloat
    response_duplicate_weight: NonNegativeFloat

    @field_validator("section_weights")
    @classmethod
    def _every_section(cls, value: dict[Section, float]) -> dict[Section, float]:
        for section in Section:
            if section not in value:
                raise _key_error(section.value, "required")
        if sum(value.values()) <= 0:
            raise PydanticCustomError("policy_key", "weights must sum to > 0")
        return value


class SurvivorKey(_Model):
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


class DedupPolicy(_Model):
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
                raise _key_error(f"[{index}]", f"key '{item.key.value}' listed twice")
            seen.add(item.key)
        if value[-1].key is not DedupKey.EXAMPLE_ID:
            raise PydanticCustomError(
                "policy_key",
                "must end with 'example_id' (the unique tie-breaker that makes survivors "
                "independent of input order)",
            )
        return value


class ContaminationPolicy(_Model):
    """`contamination`: n-gram size and overlap threshold of the eval-contamination checks."""

    ngram_size: Annotated[int, Field(strict=True, ge=2, le=64)] = 13
    min_overlap_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5
    top_matches: Annotated[int, Field(strict=True, ge=1, le=100)] = 5


class ReviewPolicy(_Model):
    """Human review: the release uses that take only rows a human approved."""

    required_for: tuple[IntendedUse, ...] = ()


class Policy(_Model):
    """The whole curation policy; build it with `Policy.load`."""

    version: Literal[1]
    gates: GatesPolicy
    score: ScorePolicy
    dedup: DedupPolicy
    contamination: ContaminationPolicy = ContaminationPolicy()
    pii: PiiPolicy = PiiPolicy()
    review: ReviewPolicy = ReviewPolicy()

    _content_hash: str | None = PrivateAttr(default=None)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> "Policy":
        """Read, validate and hash a policy file.

        Args:
            path: The policy YAML file (normally `$BORN_DATA_DIR/policy.yaml`).

        Returns:
            The validated policy; `content_hash` is the SHA-256 of the file bytes.

        Raises:
            PolicyError: The file is missing, is not YAML, or a value is invalid.
        """
        source = Path(path)
        try:
            data = source.read_bytes()
        except OSError as error:
            raise PolicyError(str(path), [("", f"cannot read: {error.strerror}")]) from error
        return cls.from_yaml(data, source=str(path))

    @classmethod
    def from_yaml(cls, data: bytes | str, *, source: str = "<policy>") -> "Policy":
        """Validate a policy from YAML text; `source` names it in error messages.

        Raises:
            PolicyError: The text is not YAML or a value is invalid.
        """
        raw = data.encode() if isinstance(data, str) else data
        try:
            document = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise PolicyError(source, [("", f"invalid YAML: {error}")]) from error
        if not isinstance(document, dict):
            raise PolicyError(source, [("", "must be a YAML mapping")])
        try:
            policy = cls.model_validate(document)
        except ValidationError as error:
            raise PolicyError.from_validation(source, error) from None
        policy._content_hash = hashlib.sha256(raw).hexdigest()
        return policy

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any], str]]:
        """Pickle as the validated values and the hash (worker processes rebuild the patterns)."""
        return (_restore_policy, (self.model_dump(mode="json"), self.content_hash))

    @property
    def content_hash(self) -> str:
        """SHA-256 hex of the policy file bytes (canonical JSON when built in memory)."""
        if self._content_hash is not None:
            return self._content_hash
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _restore_policy(values: dict[str, Any], content_hash: str) -> Policy:
    policy = Policy.model_validate(values)
    policy._content_hash = content_hash
    return policy


class PolicyError(ValueError):
    """A policy file that cannot be used; each problem names the dotted key."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {key}: {msg}" if key else f"{source}: {msg}" for key, msg in problems]
        super().__init__("\n".join(lines))

    @classmethod
    def from_validation(cls, source: str, error: ValidationError) -> "PolicyError":
        """Translate pydantic's errors into `(dotted key, message)` problems."""
        return cls(source, [_problem(detail) for detail in error.errors()])


_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


def _problem(detail: Mapping[Any, Any]) -> tuple[str, str]:
    """One pydantic error detail as `(dotted key, message)`."""
    loc = [part for part in detail["loc"] if part != "[key]"]
    ctx = detail.get("ctx") or {}
    if ctx.get(_SUBKEY):
        loc.extend(ctx[_SUBKEY].split("."))
    key = ""
    for part in loc:
        text = str(part)
        if isinstance(part, int) or text.startswith("["):
            key += text if text.startswith("[") else f"[{text}]"
        else:
            key += f".{text}" if key else text
    kind = detail["type"]
    if kind in _BOUNDS:
        name, symbol = _BOUNDS[kind]
        return key, f"must be {symbol} {ctx[name]:g}"
    if kind == "missing":
        return key, "required"
    if kind == "extra_forbidden":
        return key, "unknown key"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return key, "must be a mapping"
    if kind == "too_short":
        return key, f"must have at least {ctx['min_length']} item(s)"
    message = str(detail["msg"]).replace("Input should be", "must be")
    return key, message.removeprefix("Value error, ")
