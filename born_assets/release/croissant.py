"""The release's MLCommons Croissant 1.0 metadata, with the responsible-AI (RAI) fields.

Structure: one `cr:FileObject` per shard carries its SHA-256; one `cr:FileSet` globs the shards
(`data/train-*.parquet`, the same pattern as the card's Hugging Face config) and is the source of
the one `cr:RecordSet`, `default`, with one `cr:Field` per released column. A record set reads
from one file node, so the FileSet is what lets a reader stream every shard as one table, and the
FileObjects are what let it check each shard's bytes.

The RAI statements are derived from `ReleaseInfo` only. The dataset card states the same facts,
so it takes its PII and limitation statements from here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from born_assets.layout import ReleaseDir
from born_assets.release.info import ColumnInfo, ReleaseInfo
from born_assets.release.statements import (
    contamination_statements,
    license_statements,
    pii_statements,
)
from born_assets.specs.licenses import license_ids

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
SHARD_GLOB = f"{ReleaseDir.DATA}/{ReleaseDir.SHARD_PREFIX}-*.parquet"
RECORD_SET_ID = "default"
FILE_SET_ID = "parquet-shards"
PARQUET_MIME = "application/x-parquet"
KEYWORDS = ("code", "distillation", "provenance")
KEY_COLUMN = "example_id"

# The standard Croissant 1.0 @context, as `mlcroissant._src.core.rdf.make_context()` builds it
# for 1.0 documents (mlcroissant 1.1.1). Any key missing here makes mlcroissant warn that the
# context is not standard.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

# ColumnInfo.data_type -> Croissant dataType (all in mlcroissant's EXPECTED_DATA_TYPES).
DATA_TYPES = {
    "string": "sc:Text",
    "int64": "sc:Integer",
    "float64": "sc:Float",
    "bool": "sc:Boolean",
    "timestamp": "sc:DateTime",
}

_COLLECTION_TYPES = {
    "lane": "Machine-generated: teacher-model responses to benchmark-derived prompts (lanes)",
    "import": "Secondary data: public reasoning-trace datasets (imports)",
}


def render_croissant(info: ReleaseInfo) -> str:
    """The `croissant.json` text: sorted keys, two-space indent, LF line endings, final newline."""
    return json.dumps(croissant_metadata(info), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def croissant_metadata(info: ReleaseInfo) -> dict[str, Any]:
    """The Croissant 1.0 JSON-LD document describing the release.

    Raises:
        ValueError: A column has a data type with no Croissant equivalent.
    """
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": f"born-{info.version}",
        "description": summary_sentence(info),
        "version": semantic_version(info.version),
        "citeAs": citation(info),
        **({"datePublished": info.released_on} if info.released_on else {}),
        "license": [
            f"https://spdx.org/licenses/{spdx}.html" for spdx in sorted(_ids(info.license))
        ],
        "identifier": info.dataset_id,
        "inLanguage": "en",
        "keywords": list(KEYWORDS),
        "distribution": _distribution(info),
        "recordSet": _record_sets(info),
        **rai_fields(info),
    }


def semantic_version(version: str) -> str:
    """The version as MAJOR.MINOR.PATCH, as Croissant expects: `v3` -> `3.0.0`, `v2.1` -> `2.1.0`.

    Other names become a pre-release of 0.0.0 (`rc_june` -> `0.0.0-rc-june`).
    """
    numbered = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    if numbered:
        return ".".join(str(int(part or 0)) for part in numbered.groups())
    return "0.0.0-" + re.sub(r"[^0-9A-Za-z.-]", "-", version)


def citation(info: ReleaseInfo) -> str:
    """A BibTeX entry for the release (Croissant `citeAs`, the card's Citation section)."""
    key = re.sub(r"[^A-Za-z0-9]+", "_", f"{info.dataset_id}_{info.version}").strip("_")
    year = info.released_on[:4] or "n.d."
    return (
        f"@misc{{{key},\n"
        f"  title = {{{info.dataset_id} {info.version}: provenance-complete fine-tuning rows}},\n"
        f"  note = {{born_assets release {info.version}, dataset id {info.dataset_id}}},\n"
        f"  year = {{{year}}}\n"
        "}"
    )


def summary_sentence(info: ReleaseInfo) -> str:
    """One sentence saying what the release holds and what it is for."""
    kinds = Counter(source.origin_kind for source in info.sources)
    parts = ", ".join(_plural(count, kind) for kind, count in sorted(kinds.items()))
    return (
        f"Release {info.version} of born_assets: {info.rows:,} rows for {info.use} use, from "
        f"{_plural(len(info.sources), 'source')} ({parts or 'none'}), in "
        f"{_plural(len(info.shards), 'Parquet shard')}; every row carries its lineage record."
    )


def limitation_statements(info: ReleaseInfo) -> list[str]:
    """The release's known limitations, or a statement that none were recorded."""
    return list(info.limitations) or ["No limitations were recorded for this release."]


def fate_statements(info: ReleaseInfo) -> list[str]:
    """What happened to the input lines: one statement per fate, then the policy and code."""
    total = sum(info.fates.values())
    lines = [
        f"{count:,} of {total:,} input lines: {fate}" for fate, count in sorted_counts(info.fates)
    ]
    return [
        "Every input line ends in exactly one recorded fate.",
        *lines,
        f"Curation policy SHA-256: {info.policy_sha256}",
        f"Code version: {info.code_version}",
    ]


def rai_fields(info: ReleaseInfo) -> dict[str, Any]:
    """The Croissant RAI properties (`http://mlcommons.org/croissant/RAI/`)."""
    kinds = sorted({source.origin_kind for source in info.sources})
    uses = [f"Intended use: {info.use}"]
    uses += [f"Out of scope: {use}" for use in info.out_of_scope_uses]
    return {
        "rai:dataCollection": _collection(info),
        "rai:dataCollectionType": [_COLLECTION_TYPES.get(kind, kind) for kind in kinds],
        "rai:dataPreprocessingProtocol": fate_statements(info),
        "rai:dataAnnotationProtocol": [
            f"Fates, drop reasons and curation scores are assigned by born_assets "
            f"{info.code_version} under the curation policy with SHA-256 {info.policy_sha256}."
        ],
        "rai:dataUseCases": [*uses, *license_statements(info)],
        "rai:dataLimitations": [*limitation_statements(info), *contamination_statements(info)],
        "rai:dataBiases": _biases(info),
        "rai:personalSensitiveInformation": pii_statements(info),
        "rai:dataSocialImpact": (
            f"Models trained on this release learn from the outputs of "
            f"{_names(s.teacher for s in info.sources)}; they can inherit those models' errors, "
            "biases and blind spots, and they see only the benchmark families listed in "
            "rai:dataCollection."
        ),
        "rai:dataReleaseMaintenancePlan": (
            f"Release {info.version} is immutable: release.json pins the SHA-256 of every file, "
            "the inputs, the policy and the code version. Corrections and erasures ship as a "
            "new release version."
        ),
    }


def _configs(info: ReleaseInfo) -> list[tuple[str, str, str]]:
    """(record set id, file set id, shard glob) per config; the default config keeps its ids."""
    if not info.configs:
        return [(RECORD_SET_ID, FILE_SET_ID, SHARD_GLOB)]
    return [
        (RECORD_SET_ID, FILE_SET_ID, SHARD_GLOB)
        if config.name == RECORD_SET_ID
        else (config.name, f"{FILE_SET_ID}-{config.name}", config.shard_glob)
        for config in info.configs
    ]


def _distribution(info: ReleaseInfo) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = [
        {
            "@type": "cr:FileObject",
            "@id": shard,
            "name": shard,
            "contentUrl": shard,
            "encodingFormat": PARQUET_MIME,
            "sha256": info.shard_sha256[shard],
        }
        for shard in info.shards
    ]
    licenses = {config.name: config.license for config in info.configs}
    for record_set, file_set, glob in _configs(info):
        terms = f" (license {licenses[record_set]})" if record_set in licenses else ""
        files.append(
            {
                "@type": "cr:FileSet",
                "@id": file_set,
                "name": file_set,
                "description": f"Every Parquet shard of config {record_set}{terms}, as one table.",
                "encodingFormat": PARQUET_MIME,
                "includes": glob,
            }
        )
    return files


def _record_sets(info: ReleaseInfo) -> list[dict[str, Any]]:
    return [_record_set(info, record, files) for record, files, _ in _configs(info)]


def _record_set(info: ReleaseInfo, record_set_id: str, file_set_id: str) -> dict[str, Any]:
    record_set: dict[str, Any] = {
        "@type": "cr:RecordSet",
        "@id": record_set_id,
        "name": record_set_id,
        "description": f"One row per released example (config {record_set_id}).",
        "field": [
            _field(column, (record_set_id, file_set_id), column.name, ()) for column in info.columns
        ],
    }
    if any(column.name == KEY_COLUMN for column in info.columns):
        record_set["key"] = {"@id": f"{record_set_id}/{KEY_COLUMN}"}
    return record_set


def _field(
    column: ColumnInfo, sets: tuple[str, str], top: str, path: tuple[str, ...]
) -> dict[str, Any]:
    """A Croissant field of the (record set, file set) `sets`.

    A nested column's fields are its `subField`s, read by JSON path.
    """
    record_set_id, file_set_id = sets
    source: dict[str, Any] = {"fileSet": {"@id": file_set_id}, "extract": {"column": top}}
    if path:
        source["transform"] = {"jsonPath": ".".join(path)}
    field: dict[str, Any] = {
        "@type": "cr:Field",
        "@id": "/".join((record_set_id, top, *path)),
        "name": column.name,
        "description": column.description,
        "source": source,
    }
    if column.repeated:
        field["repeated"] = True
    if column.sub_fields:
        field["subField"] = [_field(sub, sets, top, (*path, sub.name)) for sub in column.sub_fields]
    else:
        field["dataType"] = _data_type(column.data_type)
    return field


def _data_type(data_type: str) -> str:
    try:
        return DATA_TYPES[data_type]
    except KeyError:
        known = ", ".join(sorted(DATA_TYPES))
        raise ValueError(
            f"column data type {data_type!r} has no Croissant dataType (known: {known})"
        ) from None


def _collection(info: ReleaseInfo) -> str:
    lanes = [s for s in info.sources if s.origin_kind == "lane"]
    imports = [s for s in info.sources if s.origin_kind != "lane"]
    text = (
        f"{len(info.sources)} sources fed this release. {len(lanes)} lanes: teacher-model "
        f"responses collected from manifests (teachers: {_names(s.teacher for s in lanes)}). "
        f"{len(imports)} imports: public trace datasets "
        f"(from: {_names(s.source_url or s.origin_id for s in imports)}). "
    )
    return text + f"Benchmark families: {_names(s.family for s in info.sources)}."


def _biases(info: ReleaseInfo) -> list[str]:
    """Released rows by teacher and by benchmark family: the skew a trained model inherits."""
    by_teacher: Counter[str] = Counter()
    by_family: Counter[str] = Counter()
    for source in info.sources:
        by_teacher[source.teacher] += source.rows_released
        by_family[source.family] += source.rows_released
    return [
        f"Released rows by teacher: {_shares(by_teacher)}.",
        f"Released rows by benchmark family: {_shares(by_family)}.",
    ]


def _shares(counts: Counter[str]) -> str:
    total = counts.total()
    if not total:
        return "none"
    return ", ".join(
        f"{name} {count:,} ({count / total:.1%})" for name, count in sorted_counts(counts)
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _names(values: Iterable[str]) -> str:
    return ", ".join(sorted(set(values))) or "none"


def sorted_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Largest count first, then by name: a stable order for any dict of counts."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _ids(expression: str) -> frozenset[str]:
    return license_ids(expression) if expression and expression != "NONE" else frozenset()
