"""Lane manifests: the YAML that assigns benchmark tasks to one teacher, validated at load.

A broken manifest never raises out of `load_manifests`: it comes back as a `ManifestError` naming
the file and the field, so one bad file cannot take the other lanes off the graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from born_assets.lineage import sha256_hex
from born_assets.schemas import IntendedUse, SourceType

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
OWNER_PATTERN = r"^(team:[A-Za-z0-9_.-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Teacher(_Strict):
    """The model (or, for reference lanes, the author) that produced the lane's responses."""

    model: str = Field(min_length=1)
    version: str = Field(min_length=1)


class TaskList(_Strict):
    """Task ids assigned to the lane: inline, or a file (one id per line, or JSONL + id field)."""

    ids: list[str] | None = None
    file: str | None = None
    id_field: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TaskList:
        if (self.ids is None) == (self.file is None):
            raise ValueError("give exactly one of `ids` or `file`")
        if self.id_field is not None and not (self.file or "").endswith(".jsonl"):
            raise ValueError("`id_field` applies to a `.jsonl` task file only")
        return self


class PromptTemplate(_Strict):
    """How the prompt was rendered: an id plus the template text inline or in a file."""

    id: str = Field(min_length=1)
    text: str | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _one_body(self) -> PromptTemplate:
        if (self.text is None) == (self.path is None):
            raise ValueError("give exactly one of `text` or `path`")
        return self


class OutputFields(_Strict):
    """Names of the fields in the lane's JSONL rows (defaults shown)."""

    task_id: str = "task_id"
    prompt: str = "prompt"
    response: str = "response"
    teacher_model: str = "teacher_model"
    generator_version: str = "generator_version"
    generation_timestamp: str = "generation_timestamp"
    prompt_hash: str = "prompt_hash"
    sampling_params: str = "sampling_params"
    seed_example_id: str = "seed_example_id"
    created_at: str = "created_at"


class LaneOutput(_Strict):
    """Where the lane's output files are, relative to the data dir."""

    path: str = Field(min_length=1)
    glob: str = "*.jsonl"
    fields: OutputFields = OutputFields()


class LaneManifest(_Strict):
    """One lane: one teacher, one benchmark family, the tasks it was given, where its output is."""

    lane_id: Identifier
    description: str = Field(min_length=1)
    owner: str = Field(pattern=OWNER_PATTERN)
    benchmark_family: Identifier
    teacher: Teacher
    source_type: SourceType
    tasks: TaskList
    prompt_template: PromptTemplate
    sampling_params: dict[str, Any] = Field(default_factory=dict)
    intended_use: IntendedUse
    prohibited_use: list[IntendedUse] = Field(default_factory=list)
    eval_exclusion: bool = False
    license: str = Field(min_length=1)
    consent_basis: str = Field(min_length=1)
    schedule: str | None = None
    output: LaneOutput

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError("must be a five-field cron expression, e.g. '0 3 * * *'")
        return value

    @model_validator(mode="after")
    def _use_is_consistent(self) -> LaneManifest:
        if self.intended_use in self.prohibited_use:
            raise ValueError(f"intended_use {self.intended_use!r} is also in prohibited_use")
        return self


@dataclass(frozen=True)
class LoadedManifest:
    """A valid manifest with what was read to build it."""

    manifest: LaneManifest
    path: Path
    content_hash: str
    task_ids: frozenset[str]
    template_hash: str


@dataclass(frozen=True)
class ManifestError:
    """A manifest that could not be loaded: the file, the field (dotted), and why."""

    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else str(self.path)
        return f"{where}: {self.message}"


def manifest_paths(manifest_dir: Path) -> list[Path]:
    """Manifest files in a directory, sorted by name."""
    if not manifest_dir.is_dir():
        return []
    return sorted([*manifest_dir.glob("*.yaml"), *manifest_dir.glob("*.yml")])


def load_manifests(
    manifest_dir: Path, data_dir: Path
) -> tuple[list[LoadedManifest], list[ManifestError]]:
    """Load every manifest under `manifest_dir`; bad ones come back as errors, not exceptions."""
    loaded: list[LoadedManifest] = []
    errors: list[ManifestError] = []
    seen: dict[str, Path] = {}
    for path in manifest_paths(manifest_dir):
        result = load_manifest(path, data_dir)
        if isinstance(result, ManifestError):
            errors.append(result)
        elif result.manifest.lane_id in seen:
            other = seen[result.manifest.lane_id]
            errors.append(ManifestError(path, "lane_id", f"duplicates the lane id of {other.name}"))
        else:
            seen[result.manifest.lane_id] = path
            loaded.append(result)
    return loaded, errors


def load_manifest(path: Path, data_dir: Path) -> LoadedManifest | ManifestError:
    """Parse and validate one manifest, reading its task list and template."""
    raw = path.read_bytes()
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        return ManifestError(path, where, f"not valid YAML: {getattr(error, 'problem', error)}")
    if not isinstance(document, dict):
        return ManifestError(path, "", "must be a YAML mapping of manifest fields")
    try:
        manifest = LaneManifest.model_validate(document)
    except ValidationError as error:
        problems = [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.errors()]
        field, message = problems[0]
        if len(problems) > 1:
            others = "; ".join(f"{f or '(manifest)'}: {m}" for f, m in problems[1:])
            message += f" (also {others})"
        return ManifestError(path, field, message)
    try:
        task_ids = _read_task_ids(manifest.tasks, path.parent, data_dir)
        template = _read_template(manifest.prompt_template, path.parent, data_dir)
    except _FieldError as error:
        return ManifestError(path, error.field, error.message)
    return LoadedManifest(
        manifest=manifest,
        path=path,
        content_hash=sha256_hex(raw),
        task_ids=task_ids,
        template_hash=sha256_hex(template.encode("utf-8")),
    )


class _FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _resolve(relative: str, manifest_dir: Path, data_dir: Path, field: str) -> Path:
    """A path in a manifest is relative to the data dir (or to the manifest's own folder)."""
    for base in (data_dir, manifest_dir):
        candidate = base / relative
        if candidate.is_file():
            return candidate
    raise _FieldError(field, f"file {relative!r} not found under {data_dir} or {manifest_dir}")


def _read_task_ids(tasks: TaskList, manifest_dir: Path, data_dir: Path) -> frozenset[str]:
    if tasks.ids is not None:
        ids = tasks.ids
    else:
        assert tasks.file is not None
        path = _resolve(tasks.file, manifest_dir, data_dir, "tasks.file")
        ids = _ids_from_file(path, tasks.id_field)
    if not ids:
        raise _FieldError("tasks", "the lane is assigned no task ids")
    return frozenset(ids)


def _ids_from_file(path: Path, id_field: str | None) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if id_field is None:
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    ids = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value: Any = orjson.loads(line)
            for part in id_field.split("."):
                value = value[part]
        except (orjson.JSONDecodeError, KeyError, TypeError) as error:
            raise _FieldError("tasks.id_field", f"{path.name} line {number}: {error}") from error
        ids.append(str(value))
    return ids


def _read_template(template: PromptTemplate, manifest_dir: Path, data_dir: Path) -> str:
    if template.text is not None:
        return template.text
    assert template.path is not None
    path = _resolve(template.path, manifest_dir, data_dir, "prompt_template.path")
    return path.read_text(encoding="utf-8")


def asset_name(lane_file: Path) -> str:
    """An asset-key-safe name from a manifest's file name (used when the manifest is broken)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", lane_file.stem)
