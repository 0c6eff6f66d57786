"""The dataset card and Croissant file are what a trainer or auditor reads before the rows.

They must tell the truth about the release (license, sources, what was dropped, PII status), be
loadable by the tools that consume them (the Hugging Face Hub's YAML header, `mlcroissant`), and
be byte-identical for the same release so that `release.json` can hash them and a re-run can
prove it reproduced the release.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from born_assets.layout import ReleaseDir
from born_assets.release.card import hf_license, render_card, size_category, write_card
from born_assets.release.croissant import CONTEXT, croissant_metadata
from born_assets.release.info import ColumnInfo, ConfigInfo, LicenseRows, ReleaseInfo, SourceInfo
from born_assets.release.reports import EvalHits, KindCounts, PiiSummary

TRANSPARENCY = (
    "| kind | source | family | teacher | rows_in | rows_released |\n"
    "|---|---|---|---|---:|---:|\n"
    "| lane | humaneval-gpt | humaneval | gpt-5-mini | 4 | 3 |\n"
    "| import | open-traces | mbpp | deepseek-r1 | 3 | 2 |\n"
    "| **total** | | | | 7 | 5 |\n"
)

COLUMNS = (
    ColumnInfo("example_id", "string", "Stable id of the row."),
    ColumnInfo("teacher_model", "string", "Model that wrote the response | verbatim."),
    ColumnInfo("prompt_chars", "int64", "Prompt length in code points."),
    ColumnInfo("curation_score", "float64", "Score in [0, 1]."),
    ColumnInfo("is_synthetic", "bool", "Whether a model wrote the response."),
    ColumnInfo("generation_timestamp", "timestamp", "When the teacher answered (UTC)."),
)

ARROW_TYPES = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}

ROWS: list[dict[str, Any]] = [
    {
        "example_id": f"ex_{i:024x}",
        "teacher_model": "gpt-5-mini" if i < 3 else "deepseek-r1",
        "prompt_chars": 100 + i,
        "curation_score": i / 10,
        "is_synthetic": True,
        "generation_timestamp": 1_767_225_600_000_000 + i,
    }
    for i in range(5)
]

SOURCES = (
    SourceInfo(
        origin_kind="lane",
        origin_id="humaneval-gpt",
        family="humaneval",
        teacher="gpt-5-mini",
        license="MIT",
        source_url=None,
        spec_sha256="a" * 64,
        rows_read=4,
        rows_released=3,
    ),
    SourceInfo(
        origin_kind="import",
        origin_id="open-traces",
        family="mbpp",
        teacher="deepseek-r1",
        license="CC-BY-4.0",
        source_url="https://huggingface.co/datasets/example/open-traces",
        spec_sha256="b" * 64,
        rows_read=3,
        rows_released=2,
    ),
)


PII = PiiSummary(
    rows=5,
    rows_by_status={"clean": 3, "flagged": 1, "redacted": 1},
    kinds=(
        KindCounts("api_key", True, rows_redacted=1, findings_redacted=2),
        KindCounts("email", False, rows_flagged=1, findings_flagged=1, findings_placeholder=3),
    ),
    prompts_changed=1,
)


def write_shards(release_dir: Path, shard_rows: list[list[dict[str, Any]]]) -> dict[str, str]:
    """Write real zstd Parquet shards; return their SHA-256 by relative path."""
    schema = pa.schema([(c.name, ARROW_TYPES[c.data_type]) for c in COLUMNS])
    hashes = {}
    for index, rows in enumerate(shard_rows):
        shard = ReleaseDir.shard_name(index, len(shard_rows))
        path = release_dir / shard
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, compression="zstd")
        hashes[shard] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def make_info(shard_sha256: dict[str, str], **changes: Any) -> ReleaseInfo:
    info = ReleaseInfo(
        version="v1",
        use="train",
        rows=len(ROWS),
        shards=tuple(shard_sha256),
        shard_sha256=shard_sha256,
        columns=COLUMNS,
        sources=SOURCES,
        license="CC-BY-4.0 AND MIT",
        dataset_id="born-test",
        released_on="2026-12-04",
        configs=(ConfigInfo("default", "CC-BY-4.0 AND MIT", "data/train-*.parquet", 5),),
        license_rows=(
            LicenseRows("humaneval-gpt", "MIT", 3),
            LicenseRows("open-traces", "CC-BY-4.0", 2),
        ),
        pii=PII,
        contamination=(EvalHits("humaneval", 2, 2, {"exact_prompt": 1, "task_id": 2}),),
        fates={"released": 5, "gated_out": 1, "duplicate": 1},
        policy_sha256="c" * 64,
        code_version="0.1.0+g1234567",
        transparency_markdown=TRANSPARENCY,
        out_of_scope_uses=("evaluation", "red-teaming"),
        limitations=("Only Python tasks.",),
    )
    return dataclasses.replace(info, **changes)


@pytest.fixture
def release(tmp_path: Path) -> tuple[Path, ReleaseInfo]:
    """A release folder with two real shards and the card files written into it."""
    release_dir = tmp_path / "releases" / "v1"
    info = make_info(write_shards(release_dir, [ROWS[:3], ROWS[3:]]))
    write_card(release_dir, info)
    return release_dir, info


def front_matter(card: str) -> dict[str, Any]:
    assert card.startswith("---\n")
    header, _, _ = card[len("---\n") :].partition("\n---\n")
    loaded = yaml.safe_load(header)
    assert isinstance(loaded, dict)
    return loaded


# --- Croissant: the real validator and reader accept it ------------------------------------


def test_mlcroissant_validate_accepts_the_croissant_file(
    release: tuple[Path, ReleaseInfo], tmp_path: Path
) -> None:
    release_dir, _ = release
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "mlcroissant"),
            "validate",
            f"--jsonld={release_dir / ReleaseDir.CROISSANT}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "CROISSANT_CACHE": str(tmp_path / "croissant-cache")},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stderr


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated")
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")
def test_mlcroissant_reads_every_row_of_every_shard(release: tuple[Path, ReleaseInfo]) -> None:
    import mlcroissant as mlc  # a dev dependency; imported here to keep collection fast

    release_dir, info = release
    dataset = mlc.Dataset(jsonld=str(release_dir / ReleaseDir.CROISSANT))
    records = list(dataset.records(record_set="default"))
    assert len(records) == info.rows
    ids = sorted(record["default/example_id"].decode() for record in records)
    assert ids == sorted(row["example_id"] for row in ROWS)
    assert {key.removeprefix("default/") for key in records[0]} == {c.name for c in COLUMNS}


def test_every_shard_is_listed_with_its_real_sha256(release: tuple[Path, ReleaseInfo]) -> None:
    release_dir, info = release
    doc = json.loads((release_dir / ReleaseDir.CROISSANT).read_text())
    files = [d for d in doc["distribution"] if d["@type"] == "cr:FileObject"]
    assert [f["contentUrl"] for f in files] == list(info.shards)
    for file in files:
        real = hashlib.sha256((release_dir / file["contentUrl"]).read_bytes()).hexdigest()
        assert file["sha256"] == real
        assert file["encodingFormat"] == "application/x-parquet"


def test_croissant_declares_version_1_0_context_and_typed_fields(
    release: tuple[Path, ReleaseInfo],
) -> None:
    release_dir, _ = release
    doc = json.loads((release_dir / ReleaseDir.CROISSANT).read_text())
    assert doc["@context"] == CONTEXT
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert doc["license"] == [
        "https://spdx.org/licenses/CC-BY-4.0.html",
        "https://spdx.org/licenses/MIT.html",
    ]
    assert doc["identifier"] == "born-test"
    assert doc["version"] == "1.0.0" and doc["datePublished"] == "2026-12-04"
    assert doc["citeAs"].startswith("@misc{born_test_v1,") and "year = {2026}" in doc["citeAs"]
    [record_set] = doc["recordSet"]
    assert record_set["key"] == {"@id": "default/example_id"}
    assert {f["name"]: f["dataType"] for f in record_set["field"]} == {
        "example_id": "sc:Text",
        "teacher_model": "sc:Text",
        "prompt_chars": "sc:Integer",
        "curation_score": "sc:Float",
        "is_synthetic": "sc:Boolean",
        "generation_timestamp": "sc:DateTime",
    }
    for field in record_set["field"]:
        assert field["source"] == {
            "fileSet": {"@id": "parquet-shards"},
            "extract": {"column": field["name"]},
        }


def test_croissant_rai_fields_state_the_release_facts(release: tuple[Path, ReleaseInfo]) -> None:
    release_dir, info = release
    doc = json.loads((release_dir / ReleaseDir.CROISSANT).read_text())
    assert doc["rai:dataUseCases"] == [
        "Intended use: train",
        "Out of scope: evaluation",
        "Out of scope: red-teaming",
        "License (SPDX): CC-BY-4.0 AND MIT.",
        "Per config: config default (5 rows): CC-BY-4.0 AND MIT.",
        "Released rows per source and license: humaneval-gpt MIT: 3 rows; open-traces "
        "CC-BY-4.0: 2 rows.",
    ]
    assert doc["rai:dataLimitations"] == [
        "Only Python tasks.",
        "Contaminated rows are excluded from train releases (policy contamination.applies_to).",
        "Eval-set hits: humaneval: 2 rows matched, 2 excluded here (exact_prompt 1, task_id 2).",
    ]
    assert doc["rai:dataBiases"] == [
        "Released rows by teacher: gpt-5-mini 3 (60.0%), deepseek-r1 2 (40.0%).",
        "Released rows by benchmark family: humaneval 3 (60.0%), mbpp 2 (40.0%).",
    ]
    assert "5 of 7 input lines: released" in doc["rai:dataPreprocessingProtocol"]
    assert f"Curation policy SHA-256: {info.policy_sha256}" in doc["rai:dataPreprocessingProtocol"]
    assert "https://huggingface.co/datasets/example/open-traces" in doc["rai:dataCollection"]
    assert len(doc["rai:dataCollectionType"]) == 2
    pii = doc["rai:personalSensitiveInformation"]
    assert pii[0] == (
        "Every released row was scanned for personal data and secrets. Of 5 released rows, by "
        "pii_scan_status: clean 3, flagged 1, redacted 1."
    )
    assert pii[1] == (
        "Real findings per kind: api_key: 1 row redacted (2 findings), 0 rows flagged (0 "
        "findings); email: 0 rows redacted (0 findings), 1 row flagged (1 findings)."
    )
    assert pii[2] == "Secrets found (keys, tokens, passwords): 2 (api_key 2)."
    assert "before any redaction" in pii[3] and pii[3].startswith("1 released row carry")
    for key in ("rai:dataAnnotationProtocol", "rai:dataSocialImpact"):
        assert doc[key]
    assert "immutable" in doc["rai:dataReleaseMaintenancePlan"]


def test_a_column_type_croissant_cannot_express_is_an_error() -> None:
    info = make_info({}, columns=(ColumnInfo("blob", "binary", "Raw bytes."),))
    with pytest.raises(ValueError, match="'binary'"):
        croissant_metadata(info)


# --- Determinism ------------------------------------------------------------------------------


def test_same_release_gives_byte_identical_files(
    release: tuple[Path, ReleaseInfo], tmp_path: Path
) -> None:
    release_dir, info = release
    reordered = dataclasses.replace(
        info,
        fates=dict(reversed(list(info.fates.items()))),
        shard_sha256=dict(reversed(list(info.shard_sha256.items()))),
    )
    again = tmp_path / "again"
    again.mkdir()
    write_card(again, reordered)
    for name in (ReleaseDir.CARD, ReleaseDir.CROISSANT):
        first = (release_dir / name).read_bytes()
        assert (again / name).read_bytes() == first
        assert b"\r" not in first
        assert first.endswith(b"\n")
        assert not first.endswith(b"\n\n")


# --- The Hugging Face card --------------------------------------------------------------------


def test_card_header_has_the_hub_keys(release: tuple[Path, ReleaseInfo]) -> None:
    release_dir, _ = release
    header = front_matter((release_dir / ReleaseDir.CARD).read_text())
    assert header == {
        "license": "other",
        "license_name": "cc-by-4.0-and-mit",
        "license_details": "SPDX license expression: CC-BY-4.0 AND MIT",
        "pretty_name": "Born v1",
        "language": ["en"],
        "task_categories": ["text-generation"],
        "tags": ["code", "distillation", "provenance"],
        "size_categories": ["n<1K"],
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": "train", "path": "data/train-*.parquet"}],
            }
        ],
    }


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("MIT", {"license": "mit"}),
        ("Apache-2.0", {"license": "apache-2.0"}),
        ("CC-BY-4.0", {"license": "cc-by-4.0"}),
        ("CC-BY-SA-4.0", {"license": "cc-by-sa-4.0"}),
        (
            "Apache-2.0 AND CC-BY-4.0",
            {
                "license": "other",
                "license_name": "apache-2.0-and-cc-by-4.0",
                "license_details": "SPDX license expression: Apache-2.0 AND CC-BY-4.0",
            },
        ),
        (
            "NONE",
            {
                "license": "other",
                "license_name": "none",
                "license_details": "No released row carries a license.",
            },
        ),
    ],
)
def test_hf_license(expression: str, expected: dict[str, str]) -> None:
    assert hf_license(expression) == expected


def test_a_single_license_release_gets_the_hub_id() -> None:
    info = make_info({"data/train-00000-of-00001.parquet": "d" * 64}, license="MIT")
    header = front_matter(render_card(info))
    assert header["license"] == "mit"
    assert "license_name" not in header
    assert "license_details" not in header


@pytest.mark.parametrize(
    ("rows", "bucket"),
    [
        (0, "n<1K"),
        (999, "n<1K"),
        (1_000, "1K<n<10K"),
        (99_999, "10K<n<100K"),
        (100_000, "100K<n<1M"),
        (1_000_000, "1M<n<10M"),
        (10**12, "n>1T"),
    ],
)
def test_size_category(rows: int, bucket: str) -> None:
    assert size_category(rows) == bucket


def test_card_sections_carry_the_release_facts(release: tuple[Path, ReleaseInfo]) -> None:
    release_dir, info = release
    card = (release_dir / ReleaseDir.CARD).read_text()
    assert TRANSPARENCY in card
    headings = [line for line in card.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Loading",
        "## Citation",
        "## Intended uses",
        "## Out-of-scope uses",
        "## Sources",
        "## Licenses",
        "## Curation",
        "## Personal and sensitive information",
        "## Contamination",
        "## Plots",
        "## Limitations",
        "## Files",
    ]
    assert "5 rows for train use, from 2 sources (1 import, 1 lane), in 2 Parquet shards" in card
    assert "This release is for `train`." in card
    assert "- evaluation\n- red-teaming\n" in card
    assert "| released | 5 |\n| duplicate | 1 |\n| gated_out | 1 |\n| **total** | **7** |" in card
    assert f"`{info.policy_sha256}`" in card
    assert f"`{info.code_version}`" in card
    assert "| api_key | yes | 1 | 2 | 0 | 0 | 0 |" in card
    assert "| email | no | 0 | 0 | 1 | 1 | 3 |" in card
    assert "| humaneval | 2 | 2 | exact_prompt 1, task_id 2 |" in card
    assert "| default | `CC-BY-4.0 AND MIT` | 5 | `data/train-*.parquet` |" in card
    assert "| open-traces | `CC-BY-4.0` | 2 |" in card
    assert "- Dataset id: `born-test` (the same for every version)" in card
    assert "- Release date: 2026-12-04\n" in card
    assert "FROM 'data/train-*.parquet' GROUP BY ALL\").show()" in card
    assert 'load_dataset("parquet", data_files={"train": "data/train-*.parquet"}' in card
    assert "pd.read_parquet(p) for p in sorted(glob.glob(" in card
    assert "```bibtex\n@misc{born_test_v1,\n" in card
    assert "- Only Python tasks.\n" in card
    for shard, sha in info.shard_sha256.items():
        assert f"| `{shard}` | `{sha}` |" in card
    assert "Model that wrote the response \\| verbatim." in card


def test_without_a_pii_report_the_card_says_no_scan_ran() -> None:
    info = make_info({}, pii=None)
    assert "No PII scan ran on this release" in render_card(info)
    rai = croissant_metadata(info)["rai:personalSensitiveInformation"]
    assert rai == ["No PII scan ran on this release: its rows were not checked for personal data."]


def test_empty_optional_facts_are_stated_not_omitted() -> None:
    info = make_info({}, out_of_scope_uses=(), limitations=())
    card = render_card(info)
    assert "Uses other than `train` are out of scope for this release." in card
    assert "- No limitations were recorded for this release.\n" in card
