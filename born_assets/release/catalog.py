"""Published releases on disk: listing them, the next version name, and verifying their bytes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from born_assets.release.build import file_sha256
from born_assets.release.layout import RELEASE_JSON
from born_assets.release.publish import RELEASES_DIR, read_release_json

_NUMBERED = re.compile(r"^v(\d+)$")


def release_dirs(data_dir: Path) -> list[Path]:
    """Published release folders (those with a release.json), sorted by name."""
    root = data_dir / RELEASES_DIR
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.iterdir() if not p.name.startswith(".") and (p / RELEASE_JSON).is_file()
    )


def next_version(data_dir: Path) -> str:
    """`v<N+1>` after the highest published `v<N>` (`v1` when there is none)."""
    numbers = [int(m.group(1)) for p in release_dirs(data_dir) if (m := _NUMBERED.match(p.name))]
    return f"v{max(numbers, default=0) + 1}"


@dataclass(frozen=True)
class Mismatch:
    """A file whose bytes differ from what release.json recorded (or that is missing or extra)."""

    path: str
    expected: str | None
    actual: str | None


def verify_release(folder: Path) -> list[Mismatch]:
    """Recompute the SHA-256 of every file and compare with release.json; [] means intact."""
    recorded: dict[str, str] = read_release_json(folder)["files"]
    present = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != RELEASE_JSON
    }
    mismatches = []
    for name in sorted(set(recorded) | present):
        actual = file_sha256(folder / name) if name in present else None
        if actual != recorded.get(name):
            mismatches.append(Mismatch(name, recorded.get(name), actual))
    return mismatches
