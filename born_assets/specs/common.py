"""YAML specs (lane manifests, import specs): strict models, loading, and errors that name fields.

A broken spec never raises out of the loaders: it comes back as a `SpecError` naming the file and
the field, so one bad file cannot take the other lanes or imports off the graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from born_assets.layout import DataDir, OutsideDataDir
from born_assets.schemas.identity import sha256_hex
from born_assets.schemas.vocabulary import IntendedUse
from born_assets.specs.licenses import SpdxExpression

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
OWNER_PATTERN = r"^(team:[A-Za-z0-9_.-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]


PositiveInt = Annotated[int, Field(strict=True, gt=0)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
NonNegativeFloat = Annotated[float, Field(strict=True, ge=0)]
UnitFloat = Annotated[float, Field(strict=True, ge=0, le=1)]
NonEmptyStr = Annotated[str, Field(strict=True, min_length=1)]


def _relative_pattern(value: str) -> str:
    if Path(value).is_absolute():
        raise ValueError(f"{value!r} is absolute; write a pattern relative to the folder")
    return value


RelativeGlob = Annotated[str, Field(min_length=1), AfterValidator(_relative_pattern)]
"""A file pattern inside a source's folder (what it picks is checked by `source_folder`)."""
SUBKEY = "subkey"
"""Context key of a `key_error`: the dotted key below the validator's location."""


def key_error(subkey: str, message: str) -> PydanticCustomError:
    """A validation error whose dotted key is the validator's location plus `subkey`."""
    return PydanticCustomError("policy_key", message, {SUBKEY: subkey})


E = TypeVar("E", bound=Enum)
V = TypeVar("V")


def require_every(value: Mapping[E, V], members: type[E]) -> Mapping[E, V]:
    """`value` if it has a key for every member of the enum `members`; else the missing key."""
    for member in members:
        if member not in value:
            raise key_error(member.value, "required")
    return value


class StrictModel(BaseModel):
    """A frozen model that refuses unknown keys (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class UsageTerms(StrictModel):
    """Who owns the rows, under which license and consent, and what they may be used for."""

    description: str = Field(min_length=1)
    owner: str = Field(pattern=OWNER_PATTERN)
    intended_use: IntendedUse
    prohibited_use: list[IntendedUse] = Field(default_factory=list)
    eval_exclusion: bool = False
    license: SpdxExpression
    consent_basis: str = Field(min_length=1)

    @model_validator(mode="after")
    def _use_is_consistent(self) -> UsageTerms:
        if self.intended_use in self.prohibited_use:
            raise ValueError(f"intended_use {self.intended_use!r} is also in prohibited_use")
        return self


@dataclass(frozen=True)
class SpecError:
    """A spec that could not be loaded: the file, the field (dotted), and why."""

    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else str(self.path)
        return f"{where}: {self.message}"


class SpecFieldError(Exception):
    """Raised while resolving a spec's files; becomes a `SpecError` for that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


M = TypeVar("M", bound=BaseModel)


def spec_paths(folder: Path) -> list[Path]:
    """Spec files in a folder, sorted by name."""
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeys(yaml.constructor.SafeConstructor):
    """Refuses a mapping that repeats a key (PyYAML's default keeps the last value silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """The mapping, unless two of its own keys are equal (merged `<<` keys may be overridden).

        Raises:
            yaml.constructor.ConstructorError: a key repeats; its mark is the repeat's line.
        """
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {first_line[key]})",
                    key_node.start_mark,
                )
            first_line[key] = line
        return super().construct_mapping(node, deep)


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader), _UniqueKeys):  # type: ignore[misc]
    """libyaml's parser (when PyYAML has it) and the unique-key constructor."""


class _Loader(yaml.SafeLoader, _UniqueKeys):
    """PyYAML's own parser and the unique-key constructor."""


def load_yaml(raw: bytes) -> Any:
    """A YAML document's data, parsed like `yaml.safe_load`, except that a repeated key is refused.

    libyaml's parser when PyYAML has it (the policy parses in 2 ms, not 21, and a run loads it in
    every step); a document it refuses is parsed again by PyYAML's own, whose errors say more (the
    offending token and a caret under it, on the line where the problem starts).

    Raises:
        yaml.YAMLError: The text is not YAML, or a mapping repeats a key (the error's
            `problem_mark` is the repeated key's line).
    """
    try:
        return yaml.load(raw, Loader=_FastLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return yaml.load(raw, Loader=_Loader)  # noqa: S506 - a safe loader


def yaml_problem(error: yaml.YAMLError) -> tuple[str, str]:
    """Where a YAML error is (`line N`, or empty when unknown) and what it is, for one line."""
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}" if mark is not None else ""
    return where, str(getattr(error, "problem", None) or error)


def field_problems(error: ValidationError) -> list[tuple[str, str]]:
    """Each problem of a validation error as (dotted field, message without pydantic's prefix)."""
    return [
        (".".join(str(p) for p in e["loc"]), e["msg"].removeprefix("Value error, "))
        for e in error.errors()
    ]


def parse_spec(path: Path, model: type[M]) -> tuple[M, str] | SpecError:
    """Validate one YAML file against `model`; returns the model and the file's SHA-256."""
    raw = path.read_bytes()
    try:
        document: Any = load_yaml(raw)
    except yaml.YAMLError as error:
        where, problem = yaml_problem(error)
        return SpecError(path, where, f"not valid YAML: {problem}")
    if not isinstance(document, dict):
        return SpecError(path, "", "must be a YAML mapping of fields")
    try:
        return model.model_validate(document), sha256_hex(raw)
    except ValidationError as error:
        problems = field_problems(error)
        field, message = problems[0]
        if len(problems) > 1:
            others = "; ".join(f"{f or '(spec)'}: {m}" for f, m in problems[1:])
            message += f" (also {others})"
        return SpecError(path, field, message)


def confined(data: DataDir, relative: str, field: str, base: Path | None = None) -> Path:
    """A path named in a spec, resolved inside the data dir (`DataDir.inside`).

    Raises:
        SpecFieldError: The path is absolute, climbs out with `..`, or a symlink leads out.
    """
    try:
        return data.inside(relative, field, base)
    except OutsideDataDir as error:
        raise SpecFieldError(field, error.reason) from None


def resolve_file(relative: str, spec_dir: Path, data: DataDir, field: str) -> Path:
    """A path in a spec is relative to the data dir (or to the spec's own folder).

    Either reading must stay inside the data dir, symlinks followed; one that leads out is
    refused, not skipped.
    """
    for base in (data.root, spec_dir):
        candidate = confined(data, relative, field, base)
        if candidate.is_file():
            return candidate
    raise SpecFieldError(field, f"file {relative!r} not found under {data.root} or {spec_dir}")


def source_folder(data: DataDir, folder: str, pattern: str, field: str) -> None:
    """Check that a source's folder and every file its glob picks lie inside the data dir.

    Raises:
        SpecFieldError: For `field` (the folder's), naming the path that leads out.
    """
    try:
        data.source_files(folder, pattern)
    except OutsideDataDir as error:
        raise SpecFieldError(field, error.reason) from None


def asset_name(spec_file: Path) -> str:
    """An asset-key-safe name from a spec's file name (used when the spec is broken)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", spec_file.stem)


L = TypeVar("L")


def load_specs(
    folder: Path,
    load_one: Callable[[Path], L | SpecError],
    id_of: Callable[[L], str],
    id_field: str,
) -> tuple[list[L], list[SpecError]]:
    """Load every spec in `folder`; failures and repeated ids come back as errors, in file order."""
    loaded: list[L] = []
    errors: list[SpecError] = []
    seen: dict[str, Path] = {}
    for path in spec_paths(folder):
        result = load_one(path)
        if isinstance(result, SpecError):
            errors.append(result)
        elif id_of(result) in seen:
            other = seen[id_of(result)].name
            errors.append(SpecError(path, id_field, f"duplicates the {id_field} of {other}"))
        else:
            seen[id_of(result)] = path
            loaded.append(result)
    return loaded, errors
