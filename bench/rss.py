"""Sampling a child's resident set size over time, to give each Dagster step its own peak."""

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
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self._stop.is_set():
            try:
                text = status.read_text()
            except OSError:  # the process has ended
                return
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    self.samples.append((time.time(), int(line.split()[1]) * 1024))
                    break
            self._stop.wait(self.interval_s)

    def peak_between(self, start: float, end: float) -> int | None:
        """The largest sample taken in [start, end] (None when no sample fell in it)."""
        inside = [rss for at, rss in self.samples if start <= at <= end]
        return max(inside) if inside else None
