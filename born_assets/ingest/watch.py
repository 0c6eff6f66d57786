"""Which watched input files are new, changed or gone since the last look (the sensor's memory).

A file is identified by its path relative to the data dir and known by its size and SHA-256;
the hash is computed again only when the size or the modification time moved, so a quiet tick
costs one `stat` per file. A file modified in the last few seconds may still be being written:
it is left for a later look. Pure: paths in, decisions out; no Dagster here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from born_assets.layout import DataDir

SETTLE_S = 30.0


@dataclass(frozen=True)
class Watch:
    """One source's files: a name for them and where they are under the data dir."""

    name: str
    folder: str
    glob: str


@dataclass(frozen=True)
class FileState:
    """What was last seen of one file."""

    size: int
    mtime_ns: int
    sha256: str


SeenFiles = dict[str, dict[str, FileState]]
"""Watch name -> path relative to the data dir -> state."""


@dataclass(frozen=True)
class Scan:
    """One look at the watched files: what to remember, and what changed since the last look."""

    seen: SeenFiles
    changes: dict[str, list[str]]
    """Watch name -> one line per new or changed file (`path size sha256`) or `path removed`."""


def scan(
    data: DataDir,
    watches: Sequence[Watch],
    seen: Mapping[str, Mapping[str, FileState]],
    now: float,
    settle_s: float = SETTLE_S,
) -> Scan:
    """Compare each watch's files now with what was seen before.

    A file modified less than `settle_s` before `now` waits (its previous state, if any, is
    kept). A file seen before and gone now is a change of its watch.
    """
    new_seen: SeenFiles = {}
    changes: dict[str, list[str]] = {}
    for watch in watches:
        before = seen.get(watch.name, {})
        files, lines = _scan_one(data, watch, before, now, settle_s)
        new_seen[watch.name] = files
        if lines:
            changes[watch.name] = lines
    return Scan(new_seen, changes)


def _scan_one(
    data: DataDir, watch: Watch, before: Mapping[str, FileState], now: float, settle_s: float
) -> tuple[dict[str, FileState], list[str]]:
    files: dict[str, FileState] = {}
    lines: list[str] = []
    present = set()
    for path in data.source_files(watch.folder, watch.glob):
        name = data.relative(path)
        present.add(name)
        stat = path.stat()
        old = before.get(name)
        if now - stat.st_mtime < settle_s or (
            old is not None and (old.size, old.mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        ):
            if old is not None:
                files[name] = old
            continue
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        files[name] = FileState(stat.st_size, stat.st_mtime_ns, digest)
        if old is None or (old.size, old.sha256) != (stat.st_size, digest):
            lines.append(f"{name} {stat.st_size} {digest}")
    lines += [f"{name} removed" for name in set(before) - present]
    return files, sorted(lines)


def run_key(changes: Mapping[str, Sequence[str]]) -> str:
    """One key per set of file versions (name, size, hash): the same files give the same key."""
    lines = sorted(f"{watch} {line}" for watch, found in changes.items() for line in found)
    return "files-" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:32]


def encode(seen: SeenFiles) -> str:
    """The files seen, as a compact JSON string (a sensor cursor)."""
    raw = {w: {p: [f.size, f.mtime_ns, f.sha256] for p, f in fs.items()} for w, fs in seen.items()}
    return json.dumps(raw, sort_keys=True, separators=(",", ":"))


def decode(text: str | None) -> SeenFiles:
    """The files seen, from `encode`'s string; nothing when there is none yet."""
    raw = json.loads(text) if text else {}
    return {w: {p: FileState(*state) for p, state in files.items()} for w, files in raw.items()}
