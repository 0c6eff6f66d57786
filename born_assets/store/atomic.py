"""Publishing a folder atomically: a crash at any moment leaves the old folder or the new one.

Every table of an asset is written inside a fresh temporary folder next to the asset's folder;
when all of them are complete a symlink to it replaces the old one in one `rename`. A small file
(a cache entry) is written the same way: to a temporary name beside it, then renamed.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from born_assets.store.per_file import written_here

STALE_AFTER_S = 3600.0


FAULT_ENV = "BORN_FAULT"
"""Fault injection for tests: `<point>` fails there with EIO, `<point>:enospc` as a full disk,
`<point>:kill` ends the process at once (no cleanup runs, as with `kill -9`)."""


class InjectedFault(OSError):
    """A failure injected at a named point (see `FAULT_ENV`)."""


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` (its folder created) so that readers see the old file or the new."""
    with replacing(path) as temporary:
        temporary.write_bytes(data)


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a fresh temporary name beside `path` that replaces `path` if the block completes.

    The block writes the whole file under that name (`path`'s folder is created first); one
    `rename` then makes it `path`, so a reader, or a failure at any moment, sees the old file or
    the new one, never half of one. On an exception the temporary file is removed and `path` is
    left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".tmp-{path.name}.{uuid.uuid4().hex[:16]}"
    try:
        yield temporary
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def fault_point(name: str) -> None:
    """Fail or die here when `$BORN_FAULT` names this point; otherwise do nothing."""
    point, _, mode = os.environ.get(FAULT_ENV, "").partition(":")
    if point != name:
        return
    if mode == "kill":
        os._exit(137)
    code = errno.ENOSPC if mode == "enospc" else errno.EIO
    raise InjectedFault(code, f"{os.strerror(code)} (injected at {name})")


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
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish_dir(staging, target)


def publish_dir(complete: Path, target: Path) -> None:
    """Make the complete folder `complete` (beside `target`) the new `target` in one rename.

    Every file is synced first; `complete` is renamed to a hidden version name beside `target`,
    and a symlink to it replaces `target` in one `rename`. A crash before that leaves the old
    `target`, after it the new one. A `target` that is still a plain folder (published before
    folders were links) is first moved to `.<name>.retired`, and `restore_retired` puts it back
    if the process dies before the link replaces it.
    """
    restore_retired(target)
    fsync_tree(complete)
    for path in complete.rglob("*"):
        if path.is_file() and not path.is_symlink():
            written_here(path)
    fault_point("publish.synced")
    version = complete
    if not complete.name.startswith(f".{target.name}."):
        version = target.parent / f".{target.name}.{uuid.uuid4().hex[:16]}"
        complete.rename(version)
    previous = target.resolve() if target.is_symlink() else None
    link = target.parent / f".{target.name}.link-{uuid.uuid4().hex[:16]}"
    link.symlink_to(version.name, target_is_directory=True)
    fault_point("publish.linked")
    retired = _retired(target)
    if target.exists() and not target.is_symlink():
        target.rename(retired)
        fault_point("publish.retired")
        previous = retired
    link.replace(target)
    fsync_dir(target.parent)
    fault_point("publish.swapped")
    if previous is not None and previous != version.resolve():
        shutil.rmtree(previous, ignore_errors=True)
    sweep_stale_staging(target)


def _retired(target: Path) -> Path:
    return target.parent / f".{target.name}.retired"


def restore_retired(target: Path) -> None:
    """Put back a plain folder whose replacement by a link was cut short by a crash."""
    retired = _retired(target)
    if retired.is_dir() and not target.exists() and not target.is_symlink():
        retired.rename(target)
        fsync_dir(target.parent)


def fsync_tree(path: Path) -> None:
    """Flush every file and folder under `path` (and `path` itself) to disk."""
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            fsync_tree(child)
    fsync_dir(path)


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
        if child.name == _retired(target).name and not target.exists():
            continue
        if child.name != live and child.lstat().st_mtime < cutoff:
            if child.is_symlink() or child.is_file():
                child.unlink(missing_ok=True)
            else:
                shutil.rmtree(child, ignore_errors=True)
