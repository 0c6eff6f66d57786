"""A step keeps its output only when its inputs and its own files are the bytes it remembers.

A no-change rebuild must compute and publish nothing, but a remembered result must never be
trusted on names, sizes or times: an input rewritten with other bytes (even with the same size
and modification time), a changed version, or an output file changed behind the step's back
all make it build again. Within one process a file is read once while it stays the same file,
also when two threads ask for it at once.
"""

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from born_assets import layout
from born_assets.store import per_file
from born_assets.store.atomic import atomic_dir
from born_assets.store.unchanged import (
    attach,
    file_sha256,
    hashed_ahead,
    record,
    remembered,
    step_key,
)

VERSIONS = {"code": "c1", "policy": "p1"}


def _step(tmp_path: Path) -> tuple[Path, Path, str]:
    source = tmp_path / "warehouse" / "lanes" / "a" / "rows.parquet"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"input rows v1")
    out = tmp_path / "out"
    out.mkdir()
    (out / "rows.parquet").write_bytes(b"output rows")
    key = record(out, [source], VERSIONS)
    assert attach(out, key, "metadata")
    return source, out, key


def test_unchanged_inputs_give_back_the_metadata(tmp_path: Path) -> None:
    source, out, key = _step(tmp_path)
    assert remembered(out, step_key([source], VERSIONS)) == "metadata"
    assert key == step_key([source], dict(reversed(VERSIONS.items())))


def test_an_input_with_other_bytes_but_the_same_size_and_time_is_not_unchanged(
    tmp_path: Path,
) -> None:
    source, out, _ = _step(tmp_path)
    stat = source.stat()
    source.write_bytes(b"input rows v2")
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert remembered(out, step_key([source], VERSIONS)) is None


def test_another_version_or_a_missing_input_is_not_unchanged(tmp_path: Path) -> None:
    source, out, _ = _step(tmp_path)
    assert remembered(out, step_key([source], {**VERSIONS, "policy": "p2"})) is None
    source.unlink()
    assert remembered(out, step_key([source], VERSIONS)) is None


def test_an_output_changed_added_or_removed_is_not_trusted(tmp_path: Path) -> None:
    source, out, _ = _step(tmp_path)
    key = step_key([source], VERSIONS)
    (out / "rows.parquet").write_bytes(b"output rowz")
    assert remembered(out, key) is None
    (out / "rows.parquet").write_bytes(b"output rows")
    assert remembered(out, key) == "metadata"
    (out / "extra.parquet").write_bytes(b"")
    assert remembered(out, key) is None
    (out / "extra.parquet").unlink()
    (out / "rows.parquet").unlink()
    assert remembered(out, key) is None


def test_metadata_is_attached_only_to_the_state_of_the_same_key(tmp_path: Path) -> None:
    source, out, key = _step(tmp_path)
    assert not attach(out, "another run's key", "other metadata")
    assert remembered(out, key) == "metadata"
    bare = tmp_path / "bare"
    bare.mkdir()
    record(bare, [source], VERSIONS)
    assert remembered(bare, key) is None  # built, but its metadata never attached
    assert not (tmp_path / "none" / layout.STEP_STATE).exists()
    assert remembered(tmp_path / "none", key) is None


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files `file_sha256` actually reads, in order."""
    read: list[str] = []
    digest = hashlib.file_digest

    def counted(handle, name):
        read.append(handle.name)
        return digest(handle, name)

    monkeypatch.setattr(hashlib, "file_digest", counted)
    return read


def test_a_settled_file_is_read_once_per_process_until_it_changes(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(per_file, "SETTLED_NS", -1)  # every file counts as settled
    path = tmp_path / "rows.parquet"
    path.write_bytes(b"rows v1")
    first = file_sha256(path)
    assert file_sha256(path) == first == hashlib.sha256(b"rows v1").hexdigest()
    assert reads == [str(path)]
    stat = path.stat()
    path.write_bytes(b"rows v2")  # same size; the modification time put back
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert file_sha256(path) == hashlib.sha256(b"rows v2").hexdigest()
    replacement = tmp_path / "new.parquet"
    replacement.write_bytes(b"rows v3")
    replacement.replace(path)
    assert file_sha256(path) == hashlib.sha256(b"rows v3").hexdigest()
    assert reads == [str(path)] * 3


def test_a_file_changed_just_before_it_was_read_is_read_every_time(
    tmp_path: Path, reads: list[str]
) -> None:
    path = tmp_path / "rows.parquet"
    path.write_bytes(b"rows")
    assert file_sha256(path) == file_sha256(path)
    assert len(reads) == 2


def test_a_file_published_here_is_read_once_though_just_written(
    tmp_path: Path, reads: list[str]
) -> None:
    with atomic_dir(tmp_path / "asset") as staging:
        (staging / "rows.parquet").write_bytes(b"rows v1")
    path = tmp_path / "asset" / "rows.parquet"
    assert file_sha256(path) == file_sha256(path) == hashlib.sha256(b"rows v1").hexdigest()
    assert len(reads) == 1
    with atomic_dir(tmp_path / "asset") as staging:  # a new version: new files, read again
        (staging / "rows.parquet").write_bytes(b"rows v2")
    assert file_sha256(path) == hashlib.sha256(b"rows v2").hexdigest()
    beside = tmp_path / "beside.parquet"  # just written, not published: read every time
    beside.write_bytes(b"rows v1")
    assert file_sha256(beside) == file_sha256(beside)
    assert len(reads) == 4


def test_a_file_being_hashed_by_one_thread_is_waited_for_by_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(per_file, "SETTLED_NS", -1)  # every file counts as settled
    path = tmp_path / "rows.parquet"
    path.write_bytes(b"rows")
    reading, release = threading.Event(), threading.Event()
    read: list[str] = []
    digest = hashlib.file_digest

    def slow(handle, name):
        read.append(handle.name)
        reading.set()
        release.wait(5)
        return digest(handle, name)

    monkeypatch.setattr(hashlib, "file_digest", slow)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(file_sha256, path)
        assert reading.wait(5)
        second = pool.submit(file_sha256, path)  # waits for the first: the file is not read again
        release.set()
        assert first.result() == second.result() == hashlib.sha256(b"rows").hexdigest()
    assert read == [str(path)]


def test_files_hashed_ahead_are_read_on_the_thread_ahead_and_once_in_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(per_file, "SETTLED_NS", -1)  # every file counts as settled
    paths = [tmp_path / f"{name}.parquet" for name in "abc"]
    for path in paths:
        path.write_bytes(path.name.encode())
    read: list[tuple[str, str]] = []  # each file read, and the thread that read it
    ahead = threading.Event()
    digest = hashlib.file_digest

    def counted(handle, name):
        read.append((handle.name, threading.current_thread().name))
        if threading.current_thread().name == "born-hash-ahead":
            ahead.set()
        return digest(handle, name)

    monkeypatch.setattr(hashlib, "file_digest", counted)
    with hashed_ahead([paths[0], tmp_path / "gone.parquet", *paths[1:]]):
        assert ahead.wait(5)  # the thread reads on its own, the block asking nothing
        hashes = [file_sha256(path) for path in reversed(paths)]  # whichever thread comes first
    assert hashes == [hashlib.sha256(p.name.encode()).hexdigest() for p in reversed(paths)]
    assert read[0] == (str(paths[0]), "born-hash-ahead")
    assert sorted(name for name, _ in read) == sorted(str(p) for p in paths)  # each once
    assert not any(t.name == "born-hash-ahead" for t in threading.enumerate())  # it stopped
