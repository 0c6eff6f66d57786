"""Every path a spec names stays inside the data dir, or the spec is refused at load.

An import spec or a manifest that points at `../../../etc` once read files outside the data dir and
stored their content in the quarantine table while `born manifests` called it fine. Each form of
escape (a climbing `..`, an absolute path, a symlink that leads out, a glob that climbs) must be
refused naming the file and the field, before a byte outside is read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from born_assets.cli.main import main
from born_assets.layout import DataDir, OutsideDataDir
from born_assets.specs.common import SpecError
from born_assets.specs.evals import load_eval_set
from born_assets.specs.imports import load_import
from born_assets.specs.manifests import load_manifest
from born_assets.specs.project import Project
from born_assets_tests.ingest.test_imports import SPEC as IMPORT
from born_assets_tests.specs.test_manifests import VALID as LANE

SECRET = "outside-secret-line"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[DataDir, Path]:
    """A data dir with a lane folder and a sibling folder outside it holding a secret file."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jsonl").write_text(f'{{"task_id": "{SECRET}"}}\n')
    (outside / "template.txt").write_text("{prompt}")
    root = tmp_path / "data"
    (root / "lanes" / "lane-a").mkdir(parents=True)
    (root / "traces" / "chats").mkdir(parents=True)
    return DataDir.at(root), outside


def write(folder: Path, name: str, document: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(document))
    return path


def refused(result: object, field: str) -> str:
    assert isinstance(result, SpecError), result
    assert result.field == field, result
    return result.message


@pytest.mark.parametrize(
    ("key", "where", "field", "says"),
    [
        ("output", {"path": "../outside"}, "output.path", "resolves outside the data dir"),
        ("output", {"path": "lanes/../../outside"}, "output.path", "resolves outside"),
        ("output", {"path": "/etc"}, "output.path", "is absolute"),
        ("output", {"path": "lanes", "glob": "../../outside/*"}, "output.path", "outside"),
        ("output", {"path": "lanes/lane-a", "glob": "/etc/*"}, "output.glob", "is absolute"),
        ("files", {"path": "../../../etc"}, "files.path", "resolves outside"),
        ("files", {"path": "/etc"}, "files.path", "is absolute"),
        ("files", {"path": "traces", "glob": "../../outside/*"}, "files.path", "resolves outside"),
        ("files", {"path": "traces", "glob": "/etc/*"}, "files.glob", "is absolute"),
    ],
)
def test_a_source_folder_outside_is_refused(
    layout: tuple[DataDir, Path], key: str, where: dict, field: str, says: str
) -> None:
    """`output` of a lane manifest, `files` of an import spec."""
    data, _ = layout
    result: object
    if key == "output":
        result = load_manifest(write(data.manifests, "a.yaml", {**LANE, key: where}), data)
    else:
        result = load_import(write(data.imports, "chats.yaml", {**IMPORT, key: where}), data)
    assert says in refused(result, field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tasks": {"file": "../outside/secret.jsonl", "id_field": "task_id"}}, "tasks.file"),
        ({"tasks": {"file": "/etc/hostname"}}, "tasks.file"),
        (
            {"prompt_template": {"id": "t", "path": "../../outside/template.txt"}},
            "prompt_template.path",
        ),
        ({"tests": {"harness": "humaneval", "file": "../outside/secret.jsonl"}}, "tests.file"),
    ],
)
def test_a_lane_file_outside_is_refused(
    layout: tuple[DataDir, Path], change: dict, field: str
) -> None:
    data, _ = layout
    path = write(data.manifests, "a.yaml", {**LANE, **change})
    message = refused(load_manifest(path, data), field)
    assert "resolves outside the data dir" in message or "is absolute" in message


def test_symlinks_that_lead_out_are_refused(layout: tuple[DataDir, Path]) -> None:
    data, outside = layout
    (data.root / "lanes" / "linked").symlink_to(outside, target_is_directory=True)
    (data.root / "tasks").mkdir()
    (data.root / "tasks" / "t.txt").symlink_to(outside / "secret.jsonl")
    folder = write(data.manifests, "a.yaml", {**LANE, "output": {"path": "lanes/linked"}})
    assert "outside the data dir" in refused(load_manifest(folder, data), "output.path")
    task_file = write(data.manifests, "b.yaml", {**LANE, "tasks": {"file": "tasks/t.txt"}})
    assert "outside the data dir" in refused(load_manifest(task_file, data), "tasks.file")
    (data.root / "lanes" / "lane-a" / "rows.jsonl").symlink_to(outside / "secret.jsonl")
    one_file = write(data.manifests, "c.yaml", LANE)
    message = refused(load_manifest(one_file, data), "output.path")
    assert "lanes/lane-a/rows.jsonl" in message and "outside the data dir" in message


def test_a_symlink_inside_the_data_dir_is_followed(layout: tuple[DataDir, Path]) -> None:
    data, _ = layout
    (data.root / "lanes" / "lane-a" / "real.jsonl").write_text("{}\n")
    (data.root / "lanes" / "alias").symlink_to(data.root / "lanes" / "lane-a")
    assert data.source_files("lanes/alias", "*.jsonl") == [data.root / "lanes/alias/real.jsonl"]


def test_a_file_linked_out_after_load_fails_the_read_loudly(layout: tuple[DataDir, Path]) -> None:
    data, outside = layout
    (data.root / "traces" / "chats" / "late.jsonl").symlink_to(outside / "secret.jsonl")
    with pytest.raises(OutsideDataDir, match="late.jsonl"):
        data.source_files("traces/chats", "*")


def test_an_eval_set_file_outside_is_refused(layout: tuple[DataDir, Path]) -> None:
    data, _ = layout
    spec = {
        "eval_id": "e",
        "description": "d",
        "benchmark_family": "humaneval",
        "file": "../outside/secret.jsonl",
        "license": "MIT",
        "source": "s",
        "id_field": "task_id",
        "text_fields": ["task_id"],
        "generator_model": None,
    }
    path = write(data.evals, "e.yaml", spec)
    assert "outside the data dir" in refused(load_eval_set(path, data), "file")


def test_born_manifests_exits_nonzero_on_an_import_that_escapes(
    data_dir: Path, tmp_path: Path, capsys
) -> None:
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "passwd.jsonl").write_text(f'{{"id": "{SECRET}"}}\n')
    assert main(["--data-dir", str(data_dir), "manifests"]) == 0
    spec = yaml.safe_load((data_dir / "imports" / "fastchat-identity.yaml").read_text())
    spec["files"] = {"path": "../etc"}
    (data_dir / "imports" / "fastchat-identity.yaml").write_text(yaml.safe_dump(spec))
    assert main(["--data-dir", str(data_dir), "manifests"]) == 1
    err = capsys.readouterr().err
    assert "imports/fastchat-identity.yaml: files.path: '../etc' resolves outside" in err


def test_two_specs_picking_the_same_file_are_both_refused_naming_each_other(
    data_dir: Path, capsys
) -> None:
    spec = yaml.safe_load((data_dir / "imports" / "fastchat-identity.yaml").read_text())
    spec["import_id"] = "fastchat-again"
    (data_dir / "imports" / "fastchat-again.yaml").write_text(yaml.safe_dump(spec))
    project = Project.load(DataDir.at(data_dir))
    errors = {e.path.stem: e for e in project.import_errors}
    assert set(errors) == {"fastchat-again", "fastchat-identity"}
    assert errors["fastchat-again"].field == "files.path"
    assert "which imports/fastchat-identity.yaml also picks" in errors["fastchat-again"].message
    assert "which imports/fastchat-again.yaml also picks" in errors["fastchat-identity"].message
    assert "fastchat-identity" not in {i.spec.import_id for i in project.imports}
    assert main(["--data-dir", str(data_dir), "manifests"]) == 1
    assert "imports/fastchat-again.yaml: files.path: picks traces/" in capsys.readouterr().err


@pytest.mark.parametrize("version", ["..", "../../etc", "v1/../../x", ".v1.0123", "", "/etc"])
def test_a_release_version_from_the_command_line_cannot_climb(
    layout: tuple[DataDir, Path], version: str
) -> None:
    data, _ = layout
    with pytest.raises(OutsideDataDir, match="is not a plain folder name"):
        data.release(version)
    with pytest.raises(OutsideDataDir):
        data.similarity_index(version)


def test_born_refuses_command_line_paths_outside_the_data_dir(
    data_dir: Path, tmp_path: Path, capsys
) -> None:
    (tmp_path / "elsewhere" / "release.json").parent.mkdir()
    (tmp_path / "elsewhere" / "release.json").write_text("{}")
    assert main(["--data-dir", str(data_dir), "verify", "../../elsewhere"]) == 2
    err = capsys.readouterr().err
    assert "release version: '../../elsewhere' is not a plain folder name" in err
    out = tmp_path / "sheets"
    assert main(["--data-dir", str(data_dir), "review", "export", "--out", str(out)]) == 2
    assert "--out: " in capsys.readouterr().err and not out.exists()
