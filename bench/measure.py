"""Run one measurement in a child process: its wall time, CPU time and its own peak RSS.

The measuring process is a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`): a process the child
leaves behind (its multiprocessing fork server, which reaps the workers forked from it) comes to
it when the child exits, and is waited for here, so their CPU counts with the child's.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.rss import RssSampler

_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Measured:
    """What one child process cost."""

    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_bytes: int
    peak_tree_rss_bytes: int  # the child and every process below it, summed at each sample
    returncode: int
    load_before: float  # 1-minute load average: the machine is shared, so say how busy it was
    load_after: float


def run_measured(
    command: Sequence[str],
    env: dict[str, str] | None = None,
    log: Path | None = None,
    sampler: list[RssSampler] | None = None,
    cwd: Path | None = None,
) -> Measured:
    """Run `command` and wait for it with `wait4`, which reports that child's own peak RSS.

    `RUSAGE_CHILDREN` would give the largest of every child so far; `wait4` gives this one's.
    Output goes to `log` (or is discarded). When `sampler` is a list, an `RssSampler` of the
    child is appended to it, to read the RSS over time afterwards.
    """
    _become_subreaper()
    load_before = os.getloadavg()[0]
    with (log or Path(os.devnull)).open("wb") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd)
        with RssSampler(process.pid) as rss:
            _, status, usage = os.wait4(process.pid, 0)
            user, system = usage.ru_utime, usage.ru_stime
            for left in _reap_left_behind():
                user, system = user + left.ru_utime, system + left.ru_stime
        wall = time.perf_counter() - start
        if sampler is not None:
            sampler.append(rss)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        wall_s=wall,
        user_s=user,
        sys_s=system,
        peak_rss_bytes=usage.ru_maxrss * 1024,  # Linux reports KiB
        peak_tree_rss_bytes=max(rss.tree_peak, usage.ru_maxrss * 1024),
        returncode=process.returncode,
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _reap_left_behind() -> list[resource.struct_rusage]:
    """Wait for every process the child left behind (they end when it has ended)."""
    usages: list[resource.struct_rusage] = []
    while True:
        try:
            _, _, usage = os.wait4(-1, 0)
        except ChildProcessError:
            return usages
        usages.append(usage)


def drop_into_page_cache(paths: Sequence[Path]) -> int:
    """Read every file once so that each measurement starts from the page cache; bytes read."""
    total = 0
    for path in paths:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 22):
                total += len(chunk)
    return total
