"""The curation policy (`data/policy.yaml`): typed, validated at load, hashed for the release.

Every threshold that decides a row's fate lives in the policy file, not in code. `Policy.load`
reads the YAML, validates it with the pydantic models below (unknown keys are errors, so a typo
never silently falls back to a default) and records the SHA-256 of the file bytes as
`Policy.content_hash`, which the release writes into `release.json`.

A bad value raises `PolicyError` whose message names the file and the dotted key, one problem per
line, e.g. ``data/policy.yaml: gates.length.default.max_response_chars: must be > 0``.

The sections live beside this module: `curation_policy` (gates, score, dedup), `pii_policy`,
`similarity_policy` (MinHash settings, near-dedup) and `execution_policy` (tests in a sandbox);
the vocabularies they name are enums, so a policy can only name reasons and keys the code knows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError

from born_assets.schemas.vocabulary import IntendedUse
from born_assets.specs.closure_policy import ClosurePolicy
from born_assets.specs.common import SUBKEY, StrictModel
from born_assets.specs.curation_policy import DedupPolicy, GatesPolicy, ScorePolicy
from born_assets.specs.execution_policy import ExecutionPolicy
from born_assets.specs.pii_policy import PiiPolicy
from born_assets.specs.similarity_policy import NearDedupPolicy, SimilarityPolicy


class ContaminationPolicy(StrictModel):
    """`contamination`: n-gram size and overlap threshold of the eval-contamination checks.

    `similarity_threshold` blocks a row whose prompt's estimated similarity to an eval text
    (MinHash, `similarity`) reaches it (None: measured and reported, never blocking);
    `nearest_rows` training rows are listed per eval text, with their similarity.
    """

    ngram_size: Annotated[int, Field(strict=True, ge=2, le=64)] = 13
    min_overlap_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5
    top_matches: Annotated[int, Field(strict=True, ge=1, le=100)] = 5
    similarity_threshold: Annotated[float, Field(gt=0, le=1)] | None = None
    nearest_rows: Annotated[int, Field(strict=True, ge=0, le=100)] = 3


class ReviewPolicy(StrictModel):
    """Human review: the release uses that take only rows a human approved."""

    required_for: tuple[IntendedUse, ...] = ()


class Policy(StrictModel):
    """The whole curation policy; build it with `Policy.load`."""

    version: Literal[1]
    gates: GatesPolicy
    score: ScorePolicy
    dedup: DedupPolicy
    contamination: ContaminationPolicy = ContaminationPolicy()
    pii: PiiPolicy = PiiPolicy()
    review: ReviewPolicy = ReviewPolicy()
    similarity: SimilarityPolicy = SimilarityPolicy()
    near_dedup: NearDedupPolicy = NearDedupPolicy()
    execution: ExecutionPolicy = ExecutionPolicy()
    closure: ClosurePolicy = ClosurePolicy()

    _content_hash: str | None = PrivateAttr(default=None)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Policy:
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
    def from_yaml(cls, data: bytes | str, *, source: str = "<policy>") -> Policy:
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
    def from_validation(cls, source: str, error: ValidationError) -> PolicyError:
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
    if ctx.get(SUBKEY):
        loc.extend(ctx[SUBKEY].split("."))
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
