"""What `born` writes on request never lands in a published release, and never lands half-written.

A published release is immutable: `born verify` rehashes every file of it, and a trainer loads
its shards. An `--out` that names one of its files (or a folder inside it) must be refused before
anything is opened, and an output that fails half-way must leave the file it would have replaced
as it was. The release here is a stand-in (a release.json and one shard), so nothing is built.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.cli.main import main
from born_assets.layout import DataDir


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    """A data dir with a published release v1 whose one shard holds one conversation."""
    data = DataDir.at(tmp_path / "data")
    release = data.release("v1")
    release.data.mkdir(parents=True)
    message = {
        "role": "user",
        "content": "hi",
        "tool_calls": None,
        "tool_call_id": None,
        "name": None,
    }
    table = pa.table({"messages": [[message]], "tools": pa.array([None], pa.list_(pa.string()))})
    pq.write_table(table, release.data / "train-00000-of-00001.parquet")
    release.fates.write_bytes(b"fates")
    release.release_json.write_text(json.dumps({"built_at": "2026-01-01T00:00:00Z"}))
    return data


def _born(data: DataDir, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--data-dir", str(data.root), *args])
    return code, capsys.readouterr().err


def _files(folder: Path) -> dict[str, bytes]:
    files = (p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


@pytest.mark.parametrize("target", ["data/train-00000-of-00001.parquet", "README.md", "new.jsonl"])
def test_export_refuses_an_out_inside_a_release(data: DataDir, capsys, target: str) -> None:
    before = _files(data.releases)
    out = data.release("v1").path / target
    code, err = _born(data, capsys, "export", "--format", "trl", "v1", "--out", str(out))
    assert code == 2
    assert err.count("\n") == 1 and "--out" in err and "lies in the releases folder" in err
    assert _files(data.releases) == before


def test_an_out_that_links_into_a_release_is_refused_too(
    data: DataDir, capsys, tmp_path: Path
) -> None:
    link = tmp_path / "innocent.jsonl"
    link.symlink_to(data.release("v1").file("README.md"))
    code, err = _born(data, capsys, "export", "--format", "trl", "v1", "--out", str(link))
    assert code == 2 and "lies in the releases folder" in err
    assert not data.release("v1").file("README.md").exists()


def test_diff_refuses_an_out_inside_a_release(data: DataDir, capsys) -> None:
    before = _files(data.releases)
    out = data.release("v1").fates
    code, err = _born(data, capsys, "diff", "v1", "v1", "--out", str(out))
    assert code == 2 and "lies in the releases folder" in err
    assert _files(data.releases) == before


def test_export_writes_its_file_whole(data: DataDir, capsys, tmp_path: Path) -> None:
    out = tmp_path / "out" / "v1-trl.jsonl"
    code, _ = _born(data, capsys, "export", "--format", "trl", "v1", "--out", str(out))
    assert code == 0
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"messages": [{"role": "user", "content": "hi"}]}
    ]
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_a_failed_export_leaves_the_old_file_and_no_partial_one(
    data: DataDir, capsys, tmp_path: Path
) -> None:
    release = data.release("v1")
    (release.data / "train-00001-of-00001.parquet").write_bytes(b"not parquet")
    out = tmp_path / "v1-trl.jsonl"
    out.write_text("the previous export\n")
    code, err = _born(data, capsys, "export", "--format", "trl", "v1", "--out", str(out))
    assert code != 0 and err.startswith("born: ")
    assert out.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name != "data"] == [out.name]
