"""Durable generation state: the generated-row files, the attempts ledger, and generation keys.

Both files are JSONL appended one whole line at a time, flushed and fsynced before the next, so a
crash (even `kill -9`) loses at most the requests in flight and at worst leaves one torn last
line, which `JsonlAppender` cuts off before appending again. What is done is read back from the
files themselves: a generation key is done when a generated row carries it; a task is given up
when the ledger holds `max_attempts` failed attempts for its key.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from born_assets import layout
from born_assets.layout import DataDir
from born_assets.schemas.identity import canonical_json, sha256_hex

GENERATED_PREFIX = "generated-"
STATUS_OK = "ok"
STATUS_FAILED = "failed"


def generation_key(
    task_id: str, template_sha256: str, params: Mapping[str, Any], seed: int | None, model: str
) -> str:
    """SHA-256 of (task id, template hash, canonical sampling params, seed, model).

    One key, one row: a task is never generated twice under the same template, parameters, seed
    and model. Changing any of them makes new keys, hence new rows.
    """
    return sha256_hex(
        canonical_json([task_id, template_sha256, dict(params), seed, model]).encode()
    )


def ledger_path(data: DataDir, lane_id: str) -> Path:
    """The lane's attempts ledger (`DataDir.attempts`)."""
    return data.attempts(lane_id)


class LaneBusyError(RuntimeError):
    """Another process is generating the same lane."""


@contextmanager
def lane_lock(ledger: Path) -> Iterator[None]:
    """Hold the lane's generation lock (next to its ledger) for the duration of a run.

    Two runs generating one lane at once would both see a task as missing and pay for it twice.
    The lock is an `flock`, so the kernel releases it when the holder dies, even by `kill -9`.

    Raises:
        LaneBusyError: Another process holds the lock.
    """
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with (ledger.parent / layout.ATTEMPTS_LOCK).open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LaneBusyError(f"another run is generating this lane ({handle.name})") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _records(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSONL file; a torn or foreign line is skipped."""
    with path.open("rb") as handle:
        for line in handle:
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record


def generated_files(lane_dir: Path) -> list[Path]:
    """The generated-row files of a lane folder (`generated-*.jsonl`), sorted."""
    return sorted(lane_dir.glob(f"{GENERATED_PREFIX}*.jsonl")) if lane_dir.is_dir() else []


def done_keys(lane_dir: Path) -> set[str]:
    """Generation keys that already have a row in any generated file of the lane."""
    keys: set[str] = set()
    for path in generated_files(lane_dir):
        keys.update(
            r["generation_key"] for r in _records(path) if isinstance(r.get("generation_key"), str)
        )
    return keys


def failed_attempts(ledger: Path) -> Counter[str]:
    """Failed attempts recorded per generation key."""
    counts: Counter[str] = Counter()
    if ledger.is_file():
        for record in _records(ledger):
            if record.get("status") == STATUS_FAILED and isinstance(
                record.get("generation_key"), str
            ):
                counts[record["generation_key"]] += 1
    return counts


def _cut_torn_tail(path: Path) -> int:
    """Drop a last line without its newline (a write cut by a crash); returns bytes removed."""
    if not path.is_file():
        return 0
    with path.open("r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return 0
        keep = 0
        position = size
        while position > 0 and not keep:
            step = min(65_536, position)
            position -= step
            handle.seek(position)
            chunk = handle.read(step)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = position + newline + 1
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
        return size - keep


def _fsync_dir(folder: Path) -> None:
    """Make a new directory entry durable (a no-op where directories cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class JsonlAppender:
    """Appends JSON objects as lines, each flushed and fsynced; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.torn_bytes_removed = _cut_torn_tail(path)
        is_new = not path.exists()
        self._handle = path.open("ab")
        if is_new:
            _fsync_dir(path.parent)
        self._lock = threading.Lock()

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record as one line and make it durable before returning."""
        line = orjson.dumps(record) + b"\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        """Close the file."""
        self._handle.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
