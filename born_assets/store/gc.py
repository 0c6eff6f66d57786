"""Warehouse folders that no spec defines any more: a removed lane's or import's tables.

A source's folder (the link, its hidden versions, its ingest lock) outlives the spec that made
it; nothing reads it, but its rows stay on disk. `stale_source_folders` lists them, and `born gc`
prints the list before it removes anything.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from born_assets.layout import SOURCE_GROUPS, DataDir


def _source_name(entry: Path) -> str:
    """The source a warehouse entry belongs to: `x` for `x`, `.x.<version>` and `.x.link-<id>`."""
    return entry.name[1:].split(".")[0] if entry.name.startswith(".") else entry.name


def stale_source_folders(data: DataDir, live: Iterable[tuple[str, str]]) -> list[Path]:
    """Entries under `warehouse/lanes` and `warehouse/imports` of sources not in `live`.

    `live` holds `(group, source id)` pairs (`("lanes", "humaneval-reference")`).
    """
    keep = set(live)
    stale: list[Path] = []
    for group in SOURCE_GROUPS.values():
        folder = data.warehouse / group
        entries = sorted(folder.iterdir()) if folder.is_dir() else []
        names = {_source_name(e) for e in entries} - {name for g, name in keep if g == group}
        stale += [e for e in entries if _source_name(e) in names]
        stale += [p for p in (data.source_lock([group, n]) for n in sorted(names)) if p.exists()]
    return stale


def remove(paths: Iterable[Path]) -> None:
    """Remove links, files and folders (a link is removed, never followed)."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
