"""Publishing a folder atomically: a crash at any moment leaves the old folder or the new one.

Every table of an asset is written inside a fresh temporary folder next to the asset's folder;
when all of them are complete a symlink to it replaces the old one in one `rename`.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STALE_AFTER_S = 3600.0


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a fresh folder that becomes `target` only if the block completes.

    `target` is a symbolic link to a hidden versioned folder beside it; publishing a new version
    is one `rename` of a new link over the old one, which is atomic, so a reader (or a crash at
    any moment) sees the old asset or the new one, never half of one. On an exception the new
    folder is removed and the old asset stays untouched.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:16]}"
    staging.mkdir()
    try:
        yield staging
        fsync_dir(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = target.resolve() if target.is_symlink() else None
    link = target.parent / f".{target.name}.link-{uuid.uuid4().hex[:16]}"
    link.symlink_to(staging.name, target_is_directory=True)
    if target.exists() and not target.is_symlink():
        shutil.rmtree(target)
    link.replace(target)
    fsync_dir(target.parent)
    if previous is not None and previous != staging.resolve():
        shutil.rmtree(previous, ignore_errors=True)
    sweep_stale_staging(target)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (and its files) to disk."""
    for child in path.iterdir():
        if child.is_file() and not child.is_symlink():
            with child.open("rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sweep_stale_staging(target: Path, min_age_s: float = STALE_AFTER_S) -> None:
    """Remove versions of `target` that a crashed run left behind.

    Only entries untouched for `min_age_s` go, so a concurrent writer's folder is left alone.
    """
    live = target.resolve().name if target.is_symlink() else None
    cutoff = time.time() - min_age_s
    for child in target.parent.glob(f".{target.name}.*"):
        if child.name != live and child.lstat().st_mtime < cutoff:
            if child.is_symlink() or child.is_file():
                child.unlink(missing_ok=True)
            else:
                shutil.rmtree(child, ignore_errors=True)
