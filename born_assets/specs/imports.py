"""Import specs: the YAML that names a public trace dataset, its format, options, license and use.

Everything about reading a file is declared, nothing is guessed at build time: the `format`, the
format's `options` (validated by the format's own options model: `options.template` of
`chat_template`, `options.select` of `scored_rollout_group`...), where fields are (`fields`), and
when the rows were generated when they do not say (`generated_at`). A spec that gives neither a
record time (`fields.timestamp_field`) nor `generated_at` is refused at load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    HttpUrl,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from born_assets.layout import DataDir
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
    source_folder,
)
from born_assets.specs.generated_at import NO_TIME_SOURCE, GeneratedAt
from born_assets.traces.fields import AdapterSpec
from born_assets.traces.registry import FORMATS


class Generator(StrictModel):
    """The model that generated the dataset's responses, when rows do not name one themselves."""

    model: str = Field(min_length=1)
    version: str | None = None


class ImportFields(StrictModel):
    """Where the adapter finds things in a record (dotted paths; see `AdapterSpec`)."""

    id_field: str | None = None
    prompt_field: str | None = None
    response_field: str | None = None
    messages_field: str | None = None
    model_field: str | None = None
    timestamp_field: str | None = None
    tools_field: str | None = None
    system_field: str | None = None
    completion_field: str | None = None
    reward_field: str | None = None


class ImportFiles(StrictModel):
    """Where the dataset's files are, relative to the data dir; `glob` picks them in `path`.

    Every picked file must be `.jsonl`, `.jsonl.gz`, `.jsonl.zst` or `.json`
    (`born_assets.ingest.readers`); any other is refused as `unsupported_file`, not skipped.
    """

    path: str = Field(min_length=1)
    glob: RelativeGlob = "*"


class ImportSpec(UsageTerms):
    """One public trace dataset brought in as an asset `imports/<import_id>`.

    `assume_timezone` states how to read timestamps that carry no zone (a source that writes
    local times); without it such a timestamp is ambiguous and the row is quarantined.
    """

    import_id: Identifier
    name: str = Field(min_length=1)
    source_url: HttpUrl
    format: str
    options: dict[str, Any] = Field(default_factory=dict, validate_default=True)
    fields: ImportFields = ImportFields()
    dataset_family: Identifier
    source_type: SourceType
    generator: Generator | None = None
    generated_at: GeneratedAt | None = None
    assume_timezone: str | None = None
    files: ImportFiles

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"unknown format {value!r}; known: {', '.join(sorted(FORMATS))}")
        return value

    @field_validator("options")
    @classmethod
    def _options_fit_the_format(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        trace_format = FORMATS.get(info.data.get("format", ""))
        if trace_format is None:
            return value
        if trace_format.options is None:
            if value:
                raise ValueError(f"format {info.data['format']!r} takes no options")
            return value
        try:
            trace_format.options.model_validate(value)
        except ValidationError as error:
            problems = [
                f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
                for detail in error.errors()
            ]
            raise ValueError("; ".join(problems)) from None
        return value

    @model_validator(mode="after")
    def _time_has_a_source(self) -> Self:
        if self.generated_at is None and self.fields.timestamp_field is None:
            raise ValueError(NO_TIME_SOURCE + " (`fields.timestamp_field`)")
        return self

    @model_validator(mode="after")
    def _fields_the_format_needs(self) -> Self:
        trace_format = FORMATS.get(self.format)
        needed = trace_format.required_fields if trace_format is not None else ()
        missing = [f"fields.{name}" for name in needed if getattr(self.fields, name) is None]
        if missing:
            raise ValueError(f"format {self.format!r} needs {' and '.join(missing)}")
        return self

    @field_validator("assume_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as error:
                raise ValueError(f"unknown time zone {value!r}") from error
        return value

    def adapter_spec(self) -> AdapterSpec:
        """The adapter's view of this spec (its options validated by the format's model)."""
        model = FORMATS[self.format].options
        options = model.model_validate(self.options) if model is not None else None
        return AdapterSpec(**self.fields.model_dump(), options=options)


@dataclass(frozen=True)
class LoadedImport:
    """A valid import spec with the hash of the file it came from."""

    spec: ImportSpec
    path: Path
    content_hash: str


def load_import(path: Path, data: DataDir) -> LoadedImport | SpecError:
    """Parse and validate one import spec; its files must lie inside the data dir."""
    parsed = parse_spec(path, ImportSpec)
    if isinstance(parsed, SpecError):
        return parsed
    spec, content_hash = parsed
    try:
        source_folder(data, spec.files.path, spec.files.glob, "files.path")
    except SpecFieldError as error:
        return SpecError(path, error.field, error.message)
    return LoadedImport(spec, path, content_hash)


def load_imports(data: DataDir) -> tuple[list[LoadedImport], list[SpecError]]:
    """Load every import spec of the data dir; bad ones come back as errors."""
    return load_specs(
        data.imports,
        lambda path: load_import(path, data),
        lambda item: item.spec.import_id,
        "import_id",
    )
