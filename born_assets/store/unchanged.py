"""A step whose inputs are the same bytes as when it last published keeps its output as it is.

A step's output is a function of its input tables and of a few versions (the code, the policy it
reads). `step_key` hashes those versions and the SHA-256 of the *content* of every input file.
While a step publishes (under the warehouse lock, in its staging folder), `record` writes that key
and the SHA-256 of every file the step wrote (`layout.STEP_STATE`); once published, `attach` adds
the step's metadata. On the next run, `remembered` returns that metadata only when the key is the
same and every file still has its recorded content hash: a remembered result is re-verified byte
for byte by every run, never trusted from a name, a size or a modification time. Then the step
computes nothing and publishes nothing new.

Every process reads each file once: `file_sha256` keeps the hash of a file it has read for as long
as it stays the same file (`store.per_file`), so the dozen steps and checks of one run that read
one table hash it once, and every new run hashes it again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from born_assets import layout
from born_assets.store.json_state import read_json_object
from born_assets.store.per_file import PerFile

_hashes: PerFile[str] = PerFile(kept=4096)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read once per process while the file stays the same file.

    See `store.per_file`: the last 4,096 files' hashes are kept.
    """
    with path.open("rb") as handle:
        return _hashes.get(handle, lambda h: hashlib.file_digest(h, "sha256").hexdigest())


@contextmanager
def hashed_ahead(paths: Sequence[Path]) -> Iterator[None]:
    """`file_sha256` of each of `paths`, in order, on a thread of its own while the block runs.

    A run hashes the inputs of each step before the step decides anything, and a run that changes
    nothing is mostly Dagster's own work on one core. Hashed ahead on another, a step finds its
    inputs' hashes kept, or waits for the one being read (`PerFile.get`); nothing is read twice.
    A path that cannot be read is left to the step that reads it. The thread stops at the end of
    the block, after the file in hand.
    """
    stop = threading.Event()

    def hash_all() -> None:
        for path in paths:
            if stop.is_set():
                return
            try:
                file_sha256(path)
            except OSError:
                continue

    thread = threading.Thread(target=hash_all, name="born-hash-ahead", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def step_key(inputs: Sequence[Path], versions: Mapping[str, str]) -> str:
    """The key of a step's inputs: its versions and the content hash of each input file.

    A file is named by its last three path parts (`lanes/<lane>/rows.parquet`), so the key does
    not depend on where the data dir lies; a missing input is keyed as missing.
    """
    listing = [
        ["/".join(path.parts[-3:]), file_sha256(path) if path.is_file() else None]
        for path in inputs
    ]
    payload = json.dumps([dict(sorted(versions.items())), listing])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _files(folder: Path) -> dict[str, str]:
    return {
        path.name: file_sha256(path)
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != layout.STEP_STATE
    }


def _read(folder: Path) -> dict[str, Any] | None:
    return read_json_object(folder / layout.STEP_STATE)


def _write(folder: Path, state: dict[str, Any]) -> None:
    temporary = folder / f".{layout.STEP_STATE}.tmp"
    temporary.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
    temporary.replace(folder / layout.STEP_STATE)


def record(staging: Path, inputs: Sequence[Path], versions: Mapping[str, str]) -> str:
    """Record in a staging folder, once its files are written, the key of their inputs.

    The key is computed now, under the same lock as the build, so it names what the build read.

    Returns:
        The key, for `attach`.
    """
    key = step_key(inputs, versions)
    _write(staging, {"key": key, "files": _files(staging), "metadata": None})
    return key


def as_recorded(folder: Path, name: str) -> bool:
    """True when `folder/name` has the SHA-256 its step recorded when it wrote it.

    A table changed since in any way (a row edited in place, a file copied over) is not what the
    step computed: nothing may be taken from it as remembered.
    """
    state = _read(folder)
    files = state.get("files") if state is not None else None
    path = folder / name
    return isinstance(files, dict) and path.is_file() and files.get(name) == file_sha256(path)


def attach(folder: Path, key: str, metadata: str) -> bool:
    """Add the step's metadata to the state of its published folder, if that is still its own.

    Returns False (and writes nothing) when the folder holds no state built from `key`, e.g.
    because another run published over it meanwhile.
    """
    state = _read(folder)
    if state is None or state.get("key") != key:
        return False
    _write(folder, {**state, "metadata": metadata})
    return True


def remembered(folder: Path, key: str) -> str | None:
    """The metadata a step attached in `folder` if it was built from `key` and is intact.

    None when there is no complete state, the key differs, or any file differs from the content
    hash recorded for it (changed, truncated, missing, or a file added).
    """
    state = _read(folder)
    if state is None or state.get("key") != key or not isinstance(state.get("metadata"), str):
        return None
    if state.get("files") != _files(folder):
        return None
    metadata: str = state["metadata"]
    return metadata
