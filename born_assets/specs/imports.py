"""Import specs: the YAML that names a public trace dataset, its format, license and use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, HttpUrl, field_validator

from born_assets.layout import DataDir
from born_assets.schemas.vocabulary import SourceType
from born_assets.specs.common import (
    Identifier,
    SpecError,
    StrictModel,
    UsageTerms,
    load_specs,
    parse_spec,
)
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


class ImportFiles(StrictModel):
    """Where the dataset's JSONL files are, relative to the data dir."""

    path: str = Field(min_length=1)
    glob: str = "*.jsonl"


class ImportSpec(UsageTerms):
    """One public trace dataset brought in as an asset `imports/<import_id>`.

    `assume_timezone` states how to read timestamps that carry no zone (a source that writes
    local times); without it such a timestamp is ambiguous and the row is quarantined.
    """

    import_id: Identifier
    name: str = Field(min_length=1)
    source_url: HttpUrl
    format: str
    fields: ImportFields = ImportFields()
    dataset_family: Identifier
    source_type: SourceType
    generator: Generator | None = None
    assume_timezone: str | None = None
    files: ImportFiles

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"unknown format {value!r}; known: {', '.join(sorted(FORMATS))}")
        return value

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
        """The adapter's view of this spec."""
        return AdapterSpec(**self.fields.model_dump())


@dataclass(frozen=True)
class LoadedImport:
    """A valid import spec with the hash of the file it came from."""

    spec: ImportSpec
    path: Path
    content_hash: str


def load_import(path: Path) -> LoadedImport | SpecError:
    """Parse and validate one import spec."""
    parsed = parse_spec(path, ImportSpec)
    if isinstance(parsed, SpecError):
        return parsed
    spec, content_hash = parsed
    return LoadedImport(spec, path, content_hash)


def load_imports(data: DataDir) -> tuple[list[LoadedImport], list[SpecError]]:
    """Load every import spec under `import_dir`; bad ones come back as errors."""
    return load_specs(data.imports, load_import, lambda item: item.spec.import_id, "import_id")
