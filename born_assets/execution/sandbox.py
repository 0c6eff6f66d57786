"""Run untrusted code: a separate process, a scrubbed environment, limits, and namespaces if we can.

Every run gets a fresh host folder holding its working directory (the only place the code may
write), its stdout and stderr files and its result file. The child gets:

- an environment of a few fixed variables (`isolation.BASE_ENV`: no API keys, no `BORN_*`);
- resource limits on CPU seconds, address space, file size (stdout and stderr are files, so
  printing without end stops at that size too), processes and core dumps, soft = hard, which
  the driver sets on itself before any untrusted code runs (no pre-exec hook: the pipeline's
  large process is spawned from without being copied);
- when we are root, a user of its own per worker slot, switched to by the driver right after
  (root ignores the process limit; another user cannot signal the pipeline);
- with bubblewrap (`Isolation.BWRAP`, see `isolation.bwrap_command`): new pid, network (no
  interfaces), ipc and uts namespaces, the system read-only, a private /tmp of bounded size, the
  data dir and our home hidden, `--die-with-parent`;
- a wall-clock timer that kills the whole run: the process group, and with a slot user every
  process of that user (with bubblewrap the pid namespace dies with its first process).

Without bubblewrap the limits still apply but files and the network are not isolated; the result
says which isolation ran, and the stage records it on every row.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from born_assets.execution.isolation import (
    BASE_ENV,
    RUN_RESULT,
    RUN_STDERR,
    RUN_STDOUT,
    RUN_WORK,
    SANDBOX_FILES,
    SANDBOX_TMP,
    SANDBOX_WORK,
    bwrap_command,
    can_switch_user,
    choose_isolation,
    hidden_paths,
    is_root,
)
from born_assets.schemas.execution import Isolation
from born_assets.specs.execution_policy import ExecutionLimits, IsolationChoice

KILL_SECONDS = 5.0
PROC_STAT = "stat"  # /proc/<pid>/stat


@dataclass(frozen=True)
class RunOutcome:
    """What one sandboxed run did, seen from outside."""

    exit_code: int | None  # None when killed by a signal
    signal: int | None
    timed_out: bool  # the wall-clock timer fired
    duration_s: float
    stdout_bytes: int
    stderr_tail: str
    result_lines: list[str]  # what the program wrote to its result file descriptor
    isolation: Isolation


@dataclass(frozen=True)
class Sandbox:
    """How runs are contained: the isolation, its binary, the limits and what to hide."""

    isolation: Isolation
    bwrap: str | None
    limits: ExecutionLimits
    hidden: tuple[Path, ...] = ()  # host folders the code must not see (the data dir...)
    users: tuple[int, ...] = ()  # as root: slot N's runs switch to users[N] (empty: no switch)
    interpreter: str = sys.executable

    @classmethod
    def create(
        cls,
        choice: IsolationChoice,
        limits: ExecutionLimits,
        data_root: Path,
        users: tuple[int, ...] = (),
    ) -> Sandbox:
        """The sandbox the policy asks for, on this machine.

        `users` (from `isolation.claimed_users`, one per worker slot) are switched to when we are
        root and the interpreter is reachable to them.

        Raises:
            SandboxUnavailable: the policy requires bubblewrap and it does not work here.
        """
        isolation, binary = choose_isolation(choice)
        switch = is_root() and (binary is not None or can_switch_user(sys.executable))
        return cls(isolation, binary, limits, hidden_paths(data_root), users if switch else ())

    def run(
        self, argv: Sequence[str], stdin: bytes, files: dict[str, bytes], slot: int = 0
    ) -> RunOutcome:
        """Run `argv` (its first item is replaced by the interpreter when it is `python`).

        `files` are written into the host run folder (beside, not inside, the working
        directory, and read-only to the code); `argv` names them as `{run}/name`. `stdin` is fed
        through a pipe. The program gets two more arguments: the settings it must apply to
        itself before running untrusted code (`run_settings`: limits, the user to become), and
        the number of a file descriptor whose lines come back as `RunOutcome.result_lines`.
        `slot` (0 <= slot < workers) picks that user when we are root; two runs at once need
        different slots.
        """
        uid = self.users[slot] if self.users else None
        with _run_folder() as folder:
            for name, content in files.items():
                (folder / name).write_bytes(content)
            work = folder / RUN_WORK
            work.mkdir()
            if uid is not None:
                os.chown(work, uid, uid)
                folder.chmod(0o755)
            return self._run_in(folder, argv, stdin, uid)

    def _run_in(
        self, folder: Path, argv: Sequence[str], stdin: bytes, uid: int | None
    ) -> RunOutcome:
        inside = SANDBOX_WORK if self.bwrap else str(folder / RUN_WORK)
        args = [a.replace("{run}", SANDBOX_FILES if self.bwrap else str(folder)) for a in argv]
        if args and args[0] == "python":
            args[0] = self.interpreter
        with (
            (folder / RUN_STDOUT).open("wb") as out,
            (folder / RUN_STDERR).open("wb") as err,
            (folder / RUN_RESULT).open("wb") as result,
        ):
            args += [run_settings(self.limits, uid), str(result.fileno())]
            command = (
                bwrap_command(self.bwrap, self.limits, self.hidden, folder, args)
                if self.bwrap
                else args
            )
            env = {**BASE_ENV, "HOME": inside, "TMPDIR": SANDBOX_TMP if self.bwrap else inside}
            started = time.perf_counter()
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                cwd=None if self.bwrap else inside,
                env=env,
                pass_fds=(result.fileno(),),
                start_new_session=True,
            )
            status, timed_out = _wait(process, stdin, self.limits.wall_seconds, uid)
            duration = time.perf_counter() - started
        return RunOutcome(
            exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            timed_out=timed_out,
            duration_s=round(duration, 3),
            stdout_bytes=(folder / RUN_STDOUT).stat().st_size,
            stderr_tail=_tail(folder / RUN_STDERR, self.limits.stderr_tail_bytes),
            result_lines=(folder / RUN_RESULT).read_text("utf-8", errors="replace").splitlines(),
            isolation=self.isolation,
        )


@contextmanager
def _run_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="born-run-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _own_processes() -> int:
    """Processes of our own user now (the process limit counts them all)."""
    return len(_processes_of(os.getuid()))


def _processes_of(uid: int) -> list[int]:
    """Live processes of `uid` (zombies excluded: they are gone but for their exit status)."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, IndexError):
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                state = entry.joinpath(PROC_STAT).read_text().rsplit(")", 1)[1].split()[0]
                if state not in ("Z", "X"):
                    found.append(int(entry.name))
    return found


def run_settings(limits: ExecutionLimits, uid: int | None) -> str:
    """What the driver applies to itself before any untrusted code runs (JSON).

    Limits with soft = hard (the code cannot raise them), then the switch to `uid`. The process
    limit counts every process of the user: a slot user has none but the run's; our own user has
    its other processes too, so its limit is their current count plus the allowance.
    """
    processes = limits.processes if uid is not None else _own_processes() + limits.processes
    return json.dumps(
        {
            "uid": -1 if uid is None else uid,
            "cpu_seconds": limits.cpu_seconds,
            "memory_bytes": limits.memory_mb * 1024 * 1024,
            "file_size_bytes": limits.file_size_mb * 1024 * 1024,
            "processes": processes,
        }
    )


def _wait(
    process: subprocess.Popen[bytes], stdin: bytes, wall_seconds: float, uid: int | None
) -> tuple[int, bool]:
    """Feed stdin, wait with a wall-clock timer; the wait status and whether it timed out."""
    fired = threading.Event()

    def _kill() -> None:
        fired.set()
        _kill_run(process.pid, uid)

    timer = threading.Timer(wall_seconds, _kill)
    timer.start()
    try:
        assert process.stdin is not None
        with contextlib.suppress(OSError):
            process.stdin.write(stdin)
            process.stdin.close()
        _, status = os.waitpid(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    _kill_run(process.pid, uid)  # anything the code left behind
    return status, fired.is_set()


def _kill_run(pid: int, uid: int | None) -> None:
    """Kill the run's process group and, with a slot user, every process of that user.

    With bubblewrap the rest of the run dies with its pid namespace. A slot user's processes are
    killed until none is left (a fork bomb may fork between two rounds), for at most 5 seconds.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if uid is None:
        return
    deadline = time.monotonic() + KILL_SECONDS
    while (leftovers := _processes_of(uid)) and time.monotonic() < deadline:
        for leftover in leftovers:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(leftover, signal.SIGKILL)
        time.sleep(0.01)


def _tail(path: Path, size: int) -> str:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - size))
        return handle.read().decode("utf-8", errors="replace")
