"""A long stage says how far it is, a few lines a minute: never silent, never a flood.

A release manager watching a run (or its log) needs rows done / total, the rate and the time
left; a line per batch would drown the run's log, so the lines are throttled.
"""

from __future__ import annotations

import logging

import pytest

from born_assets.store.progress import INTERVAL_S, Progress, Step, counted, listening


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lines_are_throttled_and_say_done_total_rate_and_time_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    seen: list[Step] = []
    progress = Progress("sanitize", 1_000, clock)
    with caplog.at_level(logging.INFO, "born_assets.progress"), listening(seen.append):
        for _ in range(9):  # 9 batches of 100 rows, one second apart: one line after 15 s
            clock.now += 1
            progress.advance(100)
        clock.now = INTERVAL_S + 1
        progress.advance(50)
        progress.advance(50)
        progress.finish()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "sanitize: 950/1,000 rows (95%), 59 rows/s, about 1 s left",
        "sanitize: 1,000/1,000 rows (100%) in 16.0 s, 62 rows/s",
    ]
    assert len(seen) == 12 and seen[-1].finished and not seen[-2].finished


def test_counted_advances_by_each_batch_and_finishes_without_a_total(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    with caplog.at_level(logging.INFO, "born_assets.progress"):
        batches = list(counted([[1, 2], [3], []], Progress("pii scan", None, clock)))
    assert batches == [[1, 2], [3], []]
    assert [r.getMessage() for r in caplog.records] == ["pii scan: 3 rows in 0.0 s, 0 rows/s"]
