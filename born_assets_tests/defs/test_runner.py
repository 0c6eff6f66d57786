"""The command line's runs freeze the objects made before them, and unfreeze them after.

They hash ahead, on a thread of their own, what the steps will hash before deciding anything.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest

from born_assets.defs.location import build_definitions
from born_assets.defs.runner import _frozen_heap, _hashed_by_cut, _hashed_by_steps
from born_assets.layout import DataDir
from born_assets.specs.project import Project


def test_the_heap_is_frozen_during_the_runs_and_given_back_after_them() -> None:
    assert gc.get_freeze_count() == 0
    with _frozen_heap():
        assert gc.get_freeze_count() > 0  # the imports' and definitions' objects
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), _frozen_heap():
        raise RuntimeError("a run that failed")
    assert gc.get_freeze_count() == 0  # given back all the same


def test_a_run_hashes_ahead_every_source_file_then_every_published_table(data_dir: Path) -> None:
    data = DataDir.at(data_dir)
    sanitized = data.asset(["sanitized"]) / "rows.parquet"
    sanitized.parent.mkdir(parents=True)
    sanitized.write_bytes(b"a published table")
    fifo = data.asset(["gated"]) / "rows.parquet"  # opened, it would wait for a writer forever
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    notes = data_dir / "lanes" / "humaneval-reference" / "notes.txt"  # the lane reads *.jsonl
    notes.write_text("not an input")
    project = Project.load(data)
    hashed = _hashed_by_steps(data, project, build_definitions(project))
    inputs = [
        p
        for folder in ("lanes", "traces")
        for p in (data_dir / folder).rglob("*")
        if p.is_file() and p != notes
    ]
    assert sorted(hashed[:-1]) == sorted(inputs)  # what each lane's and import's glob picks
    assert hashed[-1] == sanitized  # after the inputs, as the steps come; no FIFO


def _published(data: DataDir, version: str, built_at: str) -> list[Path]:
    release = data.release(version)
    shard = release.data / "train-00000-of-00001.parquet"
    shard.parent.mkdir(parents=True)
    shard.write_bytes(version.encode())
    release.release_json.write_text(json.dumps({"built_at": built_at}))
    return [release.release_json, shard]


def test_a_cut_hashes_ahead_its_published_files_and_the_shards_it_compares_with(
    tmp_path: Path,
) -> None:
    data = DataDir.at(tmp_path)
    first = _published(data, "v1", "2026-12-01T00:00:00Z")
    second = _published(data, "v2", "2026-12-02T00:00:00Z")
    assert _hashed_by_cut(data, "v2") == [*sorted(second), first[1]]
    assert _hashed_by_cut(data, "v3") == [second[1]]  # new: compared with the latest
    first[0].write_text("{damaged")
    assert _hashed_by_cut(data, "v2") == sorted(second)  # the cut itself reports the damage
