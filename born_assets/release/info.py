"""What a release's documents (card, Croissant, transparency table) say about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from born_assets.release.reports import EvalHits, PiiSummary


@dataclass(frozen=True)
class ColumnInfo:
    """One column of the released rows (or one field inside a nested column)."""

    name: str
    data_type: str  # "string", "int64", "float64", "bool", "timestamp", or "struct" (nested)
    description: str
    repeated: bool = False  # a list of values of this type
    sub_fields: tuple[ColumnInfo, ...] = ()  # the fields of a struct


@dataclass(frozen=True)
class SourceInfo:
    """One lane or import that fed the release, as the transparency table reports it."""

    origin_kind: str
    origin_id: str
    family: str
    teacher: str
    license: str
    source_url: str | None
    spec_sha256: str
    rows_read: int
    rows_released: int


@dataclass(frozen=True)
class ReleaseInfo:
    """Everything the dataset card and the Croissant metadata say about a release.

    Built deterministically from the release's inputs: no wall-clock time in here.
    """

    version: str
    use: str  # the use this release is for, e.g. "train"
    rows: int
    shards: tuple[str, ...]  # relative paths, e.g. "data/train-00000-of-00001.parquet"
    shard_sha256: dict[str, str]
    columns: tuple[ColumnInfo, ...]
    sources: tuple[SourceInfo, ...]
    fates: dict[str, int]  # lines per fate across all sources
    policy_sha256: str
    code_version: str
    transparency_markdown: str
    out_of_scope_uses: tuple[str, ...] = field(default=())
    limitations: tuple[str, ...] = field(default=())
    dataset_id: str = ""
    released_on: str = ""  # YYYY-MM-DD the version was first cut; "" when not known
    license: str = ""  # one SPDX expression for every released row
    configs: tuple[ConfigInfo, ...] = field(default=())
    license_rows: tuple[LicenseRows, ...] = field(default=())
    pii: PiiSummary | None = None  # None: no PII report (the scan did not run)
    contamination: tuple[EvalHits, ...] = field(default=())
    contamination_applies: bool = True
    plots: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ConfigInfo:
    """One Hugging Face config of the release: its shards' glob, licence and rows."""

    name: str
    license: str
    shard_glob: str
    rows: int


@dataclass(frozen=True)
class LicenseRows:
    """Released rows of one source under one licence expression."""

    origin_id: str
    license: str
    rows: int
