"""Sampling a child's resident set size over time, to give each Dagster step its own peak.

The child's own VmRSS is sampled, and beside it the sum over the child and every process below it
(its fork server and the workers forked from it), which is what the machine must hold.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

INTERVAL_S = 0.2


class RssSampler:
    """Polls `/proc/<pid>/status` (VmRSS) in a thread: (wall-clock time, bytes) samples."""

    def __init__(self, pid: int, interval_s: float = INTERVAL_S) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[tuple[float, int]] = []
        self.tree_peak = 0
        """The largest sum of VmRSS over the child and its descendants seen in one sample."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            own = _rss(self.pid)
            if own is None:  # the process has ended
                return
            self.samples.append((time.time(), own))
            tree = own + sum(_rss(pid) or 0 for pid in _descendants(self.pid))
            self.tree_peak = max(self.tree_peak, tree)
            self._stop.wait(self.interval_s)

    def peak_between(self, start: float, end: float) -> int | None:
        """The largest sample taken in [start, end] (None when no sample fell in it)."""
        inside = [rss for at, rss in self.samples if start <= at <= end]
        return max(inside) if inside else None


def _rss(pid: int) -> int | None:
    """VmRSS of a process in bytes (None once it has ended)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0  # a zombie has no VmRSS line


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, from `/proc/<pid>/task/<tid>/children`."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            pending.extend(children)
    return found
