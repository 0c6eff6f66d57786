"""Lane manifests: the YAML that assigns benchmark tasks to one teacher, validated at load.

A broken manifest never raises out of `load_manifests`: it comes back as a `SpecError` naming
the file and the field, so one bad file cannot take the other lanes off the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import Field, field_validator, model_validator

from born_assets.layout import DataDir
from born_assets.schemas.identity import sha256_hex
from born_assets.schemas.vocabulary import SourceType
from born_assets.specs.common import (
    Identifier,
    RelativeGlob,
    SpecError,
    SpecFieldError,
    StrictModel,
    UsageTerms,
    load_specs,
    parse_spec,
    resolve_file,
    source_folder,
)
from born_assets.specs.generated_at import NO_TIME_SOURCE, GeneratedAt
from born_assets.specs.generation import GenerationSpec
from born_assets.specs.task_tests import LoadedTests, TestsSpec, load_tests


class Teacher(StrictModel):
    """The model (or, for reference lanes, the author) that produced the lane's responses."""

    model: str = Field(min_length=1)
    version: str = Field(min_length=1)


class TaskList(StrictModel):
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


class PromptTemplate(StrictModel):
    """How the prompt was rendered: an id plus the template text inline or in a file."""

    id: str = Field(min_length=1)
    text: str | None = None
    path: str | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _one_body(self) -> PromptTemplate:
        if (self.text is None) == (self.path is None):
            raise ValueError("give exactly one of `text` or `path`")
        return self


class OutputFields(StrictModel):
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


class LaneOutput(StrictModel):
    """Where the lane's output files are, relative to the data dir; `glob` picks them in `path`.

    Every picked file must be a kind `born_assets.ingest.readers` reads; any other is refused as
    `unsupported_file`, not skipped.
    """

    path: str = Field(min_length=1)
    glob: RelativeGlob = "*"
    fields: OutputFields = OutputFields()


NO_SCHEDULE = "none"  # `schedule: none`: the lane has no schedule, `schedule_reason` says why


class LaneManifest(UsageTerms):
    """One lane: one teacher, one benchmark family, the tasks it was given, where its output is."""

    lane_id: Identifier
    benchmark_family: Identifier
    teacher: Teacher
    source_type: SourceType
    tasks: TaskList
    prompt_template: PromptTemplate
    sampling_params: dict[str, Any] = Field(default_factory=dict)
    schedule: str | None = None
    """A five-field cron (UTC) for the lane's own build, or `none` (then `schedule_reason`)."""
    schedule_reason: str | None = None
    output: LaneOutput
    generation: GenerationSpec | None = None
    tests: TestsSpec | None = None
    generated_at: GeneratedAt | None = None
    """When the rows were made, for rows that carry no `generation_timestamp` (see
    `specs.generated_at`). A synthetic lane's rows must carry their own time, so only a lane of
    another source type must declare it."""

    @model_validator(mode="after")
    def _generation_is_synthetic(self) -> LaneManifest:
        if self.generation is not None and self.source_type is not SourceType.SYNTHETIC:
            raise ValueError("a lane with `generation` has source_type synthetic")
        return self

    @model_validator(mode="after")
    def _time_has_a_source(self) -> LaneManifest:
        if self.generated_at is None and self.source_type is not SourceType.SYNTHETIC:
            raise ValueError(
                NO_TIME_SOURCE + " (a synthetic lane's rows carry `generation_timestamp`)"
            )
        return self

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and value != NO_SCHEDULE and len(value.split()) != 5:
            raise ValueError(
                f"must be a five-field cron expression, e.g. '0 3 * * *', or '{NO_SCHEDULE}'"
            )
        return value

    @model_validator(mode="after")
    def _no_schedule_says_why(self) -> LaneManifest:
        if self.schedule == NO_SCHEDULE and not (self.schedule_reason or "").strip():
            raise ValueError(f"schedule_reason: say why a lane has schedule: {NO_SCHEDULE}")
        return self

    @property
    def cron(self) -> str | None:
        """The lane's cron, or None when it has no schedule."""
        return None if self.schedule == NO_SCHEDULE else self.schedule


@dataclass(frozen=True)
class LoadedManifest:
    """A valid manifest with what was read to build it."""

    manifest: LaneManifest
    path: Path
    content_hash: str
    task_ids: frozenset[str]
    template_hash: str
    tests: LoadedTests | None = None

    @property
    def tasks_hash(self) -> str:
        """SHA-256 of the assigned task ids (sorted, one per line)."""
        return sha256_hex("\n".join(sorted(self.task_ids)).encode("utf-8"))


def load_manifests(data: DataDir) -> tuple[list[LoadedManifest], list[SpecError]]:
    """Load every lane manifest of the data dir; bad ones come back as errors, not exceptions."""
    return load_specs(
        data.manifests,
        lambda path: load_manifest(path, data),
        lambda item: item.manifest.lane_id,
        "lane_id",
    )


def load_manifest(path: Path, data: DataDir) -> LoadedManifest | SpecError:
    """Parse and validate one manifest, reading its task list and template."""
    parsed = parse_spec(path, LaneManifest)
    if isinstance(parsed, SpecError):
        return parsed
    manifest, content_hash = parsed
    try:
        source_folder(data, manifest.output.path, manifest.output.glob, "output.path")
        task_ids = _read_task_ids(manifest.tasks, path.parent, data)
        template = _read_template(manifest.prompt_template, path.parent, data)
        tests = _read_tests(manifest, path.parent, data)
    except SpecFieldError as error:
        return SpecError(path, error.field, error.message)
    template_hash = sha256_hex(template.encode("utf-8"))
    pinned = manifest.prompt_template.sha256
    if pinned is not None and pinned != template_hash:
        return SpecError(
            path,
            "prompt_template.sha256",
            f"the template hashes to {template_hash}, not the pinned {pinned}",
        )
    return LoadedManifest(
        manifest=manifest,
        path=path,
        content_hash=content_hash,
        task_ids=task_ids,
        template_hash=template_hash,
        tests=tests,
    )


def _read_task_ids(tasks: TaskList, manifest_dir: Path, data: DataDir) -> frozenset[str]:
    if tasks.ids is not None:
        ids = tasks.ids
    else:
        assert tasks.file is not None
        path = resolve_file(tasks.file, manifest_dir, data, "tasks.file")
        ids = _ids_from_file(path, tasks.id_field)
    if not ids:
        raise SpecFieldError("tasks", "the lane is assigned no task ids")
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
            raise SpecFieldError("tasks.id_field", f"{path.name} line {number}: {error}") from error
        ids.append(str(value))
    return ids


def _read_tests(manifest: LaneManifest, manifest_dir: Path, data: DataDir) -> LoadedTests | None:
    if manifest.tests is None:
        return None
    tasks = manifest.tasks
    return load_tests(manifest.tests, tasks.file, tasks.id_field, manifest_dir, data)


def _read_template(template: PromptTemplate, manifest_dir: Path, data: DataDir) -> str:
    if template.text is not None:
        return template.text
    assert template.path is not None
    path = resolve_file(template.path, manifest_dir, data, "prompt_template.path")
    return path.read_text(encoding="utf-8")
