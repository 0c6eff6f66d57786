"""Progress of a batch loop: rows done / total, rate and time left, at INFO a few times a minute.

Stages wrap their batch loops in `Progress` (or read with `iter_parquet_batches(..., progress=)`).
The lines go to the `born_assets.progress` logger, which Dagster captures into the run's log
(`python_logs` in dagster.yaml); a listener (`listening`) sees every step, e.g. a progress bar.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

LOGGER = logging.getLogger("born_assets.progress")
INTERVAL_S = 15.0  # at most four lines a minute per loop


@dataclass(frozen=True)
class Step:
    """Where a loop is: `done` of `total` rows (None: not known up front) after `seconds`."""

    label: str
    done: int
    total: int | None
    seconds: float
    finished: bool = False

    def line(self) -> str:
        """E.g. `sanitize: 40,000/100,000 rows (40%), 8,000 rows/s, about 8 s left`."""
        rate = self.done / self.seconds if self.seconds > 0 else 0.0
        if self.total is None:
            done = f"{self.done:,} rows"
        else:
            done = f"{self.done:,}/{self.total:,} rows ({100 * self.done // max(self.total, 1)}%)"
        if self.finished:
            return f"{self.label}: {done} in {self.seconds:.1f} s, {rate:,.0f} rows/s"
        left = ""
        if self.total is not None and rate > 0:
            left = f", about {(self.total - self.done) / rate:.0f} s left"
        return f"{self.label}: {done}, {rate:,.0f} rows/s{left}"


Listener = Callable[[Step], None]
_listeners: list[Listener] = []


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call `listener` on every step of every loop while the block runs (e.g. a progress bar)."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


class Progress:
    """Counts the rows of one loop: a line at most every `INTERVAL_S` seconds and at the end."""

    def __init__(
        self, label: str, total: int | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start counting `label` now; `total` rows are expected (None: unknown)."""
        self.label, self.total, self._clock = label, total, clock
        self.done = 0
        self._start = self._last = clock()

    def advance(self, rows: int) -> None:
        """`rows` more rows are done."""
        self.done += rows
        now = self._clock()
        step = Step(self.label, self.done, self.total, now - self._start)
        for listener in _listeners:
            listener(step)
        if now - self._last >= INTERVAL_S:
            self._last = now
            LOGGER.info(step.line())

    def finish(self) -> None:
        """The loop is over: log its rows, time and rate."""
        step = Step(self.label, self.done, self.total, self._clock() - self._start, True)
        for listener in _listeners:
            listener(step)
        LOGGER.info(step.line())


class Sized(Protocol):
    """A batch: an Arrow record batch or table, a list of rows."""

    def __len__(self) -> int: ...


B = TypeVar("B", bound=Sized)


def counted(batches: Iterable[B], progress: Progress, finish: bool = True) -> Iterator[B]:
    """Yield `batches`, advancing `progress` by each one's rows; finish it when they run out.

    With `finish=False` the caller finishes it, after the last of several loops it counts.
    """
    for batch in batches:
        yield batch
        progress.advance(len(batch))
    if finish:
        progress.finish()
