"""A broken manifest must say which file and which field is wrong, and must not stop the others."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from born_assets.layout import DataDir
from born_assets.specs.common import SpecError
from born_assets.specs.manifests import LoadedManifest, load_manifest, load_manifests
from born_assets_tests.conftest import SAMPLE_DATA

VALID = {
    "lane_id": "lane-a",
    "description": "test lane",
    "owner": "team:data-eng",
    "benchmark_family": "humaneval",
    "teacher": {"model": "m", "version": "v"},
    "source_type": "synthetic",
    "tasks": {"ids": ["HumanEval/0"]},
    "prompt_template": {"id": "t", "text": "{prompt}"},
    "intended_use": "train",
    "license": "MIT",
    "consent_basis": "test",
    "output": {"path": "lanes/lane-a"},
}


def write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / "manifests" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document) if not isinstance(document, str) else document)
    return path


def test_the_sample_manifests_all_load() -> None:
    data = SAMPLE_DATA
    loaded, errors = load_manifests(DataDir.at(data))
    assert errors == []
    assert len(loaded) >= 4
    assert len({m.manifest.benchmark_family for m in loaded}) >= 3


def test_a_valid_manifest_records_its_hash_tasks_and_template(tmp_path: Path) -> None:
    loaded = load_manifest(write(tmp_path, "a.yaml", VALID), DataDir.at(tmp_path))
    assert isinstance(loaded, LoadedManifest)
    assert loaded.task_ids == frozenset({"HumanEval/0"})
    assert len(loaded.content_hash) == 64


def test_task_ids_can_come_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "t.txt").write_text("# comment\nA/1\n\nA/2\n")
    (tmp_path / "tasks" / "t.jsonl").write_text('{"meta": {"id": 3}}\n{"meta": {"id": 4}}\n')
    by_text = load_manifest(
        write(tmp_path, "a.yaml", {**VALID, "tasks": {"file": "tasks/t.txt"}}), DataDir.at(tmp_path)
    )
    assert isinstance(by_text, LoadedManifest) and by_text.task_ids == {"A/1", "A/2"}
    spec = {"file": "tasks/t.jsonl", "id_field": "meta.id"}
    by_jsonl = load_manifest(
        write(tmp_path, "b.yaml", {**VALID, "tasks": spec}), DataDir.at(tmp_path)
    )
    assert isinstance(by_jsonl, LoadedManifest) and by_jsonl.task_ids == {"3", "4"}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"lane_id": "Bad Id!"}, "lane_id", "pattern"),
        ({"owner": "nobody"}, "owner", "pattern"),
        ({"source_type": "generated"}, "source_type", "real"),
        ({"teacher": {"model": "m"}}, "teacher.version", "required"),
        ({"intended_use": "sell"}, "intended_use", "train"),
        ({"prohibited_use": ["train"]}, "", "also in prohibited_use"),
        ({"schedule": "daily"}, "schedule", "cron"),
        ({"tasks": {"ids": ["a"], "file": "x.txt"}}, "tasks", "exactly one"),
        ({"tasks": {"file": "missing.txt"}}, "tasks.file", "not found"),
        ({"tasks": {"ids": []}}, "tasks", "no task ids"),
        ({"prompt_template": {"id": "t"}}, "prompt_template", "exactly one"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
        (
            {"output": {"path": "lanes/x", "fields": {"prompt": 3}}},
            "output.fields.prompt",
            "string",
        ),
    ],
)
def test_a_bad_field_names_the_file_and_the_field(
    tmp_path: Path, change: dict, field: str, words: str
) -> None:
    path = write(tmp_path, "bad.yaml", {**VALID, **change})
    error = load_manifest(path, DataDir.at(tmp_path))
    assert isinstance(error, SpecError)
    assert error.path == path
    assert error.field == field
    assert words in error.message
    assert str(error).startswith(str(path))


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    error = load_manifest(
        write(tmp_path, "bad.yaml", "lane_id: a\n  owner: : x\n"), DataDir.at(tmp_path)
    )
    assert isinstance(error, SpecError)
    assert error.field.startswith("line ")


def test_one_broken_manifest_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID)
    write(tmp_path, "b.yaml", {**VALID, "lane_id": "lane-b", "teacher": "nope"})
    write(tmp_path, "c.yaml", {**VALID})  # same lane id as a.yaml
    loaded, errors = load_manifests(DataDir.at(tmp_path))
    assert [m.manifest.lane_id for m in loaded] == ["lane-a"]
    assert [(e.path.name, e.field) for e in errors] == [
        ("b.yaml", "teacher"),
        ("c.yaml", "lane_id"),
    ]


@pytest.mark.parametrize(
    ("generated_at", "latest"),
    [
        ("2021-07-07", "2021-07-07T23:59:59.999999+00:00"),
        ({"from": "2021-08-16", "to": "2023-11-16"}, "2023-11-16T23:59:59.999999+00:00"),
        ({"to": "2024-03-19"}, "2024-03-19T23:59:59.999999+00:00"),
        ("2024-03-19T10:00:00+02:00", "2024-03-19T08:00:00+00:00"),
    ],
)
def test_generated_at_is_a_date_a_range_or_an_end(
    tmp_path: Path, generated_at: object, latest: str
) -> None:
    document = {**VALID, "source_type": "real", "generated_at": generated_at}
    loaded = load_manifest(write(tmp_path, "a.yaml", document), DataDir.at(tmp_path))
    assert isinstance(loaded, LoadedManifest), loaded
    assert loaded.manifest.generated_at is not None
    assert loaded.manifest.generated_at.latest.isoformat() == latest


@pytest.mark.parametrize(
    ("generated_at", "message"),
    [
        (None, "declare `generated_at`"),
        ({"from": "2024-02-01", "to": "2024-01-01"}, "is after"),
        ("2024-01-01T10:00:00", "no time zone"),
        ({"until": "2024-01-01"}, "Extra inputs"),
    ],
)
def test_a_lane_without_a_time_source_is_refused(
    tmp_path: Path, generated_at: object, message: str
) -> None:
    document: dict[str, object] = {**VALID, "source_type": "real"}
    if generated_at is not None:
        document["generated_at"] = generated_at
    error = load_manifest(write(tmp_path, "a.yaml", document), DataDir.at(tmp_path))
    assert isinstance(error, SpecError)
    assert message in error.message


def test_every_sample_lane_has_a_schedule_or_says_why_not() -> None:
    loaded, _ = load_manifests(DataDir.at(SAMPLE_DATA))
    for item in loaded:
        manifest = item.manifest
        assert manifest.schedule is not None, f"{item.path.name}: no schedule and no reason"
        if manifest.cron is None:
            assert (manifest.schedule_reason or "").strip(), item.path.name
    assert any(item.manifest.cron for item in loaded)


def test_schedule_none_without_a_reason_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "lane.yaml", {**VALID, "schedule": "none"})
    error = load_manifest(path, DataDir.at(tmp_path))
    assert isinstance(error, SpecError)
    assert "schedule_reason: say why a lane has schedule: none" in error.message
    reasoned = {**VALID, "schedule": "none", "schedule_reason": "a fixed snapshot"}
    loaded = load_manifest(write(tmp_path, "lane.yaml", reasoned), DataDir.at(tmp_path))
    assert isinstance(loaded, LoadedManifest) and loaded.manifest.cron is None
