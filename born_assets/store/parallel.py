"""Run a per-batch function over a stream of batches on several cores, results in input order.

The CPU-bound stages (the closure rewrite, the gates) are pure functions of one record batch, so
they fan out to worker processes while the calling process keeps reading and writing Parquet.
At most `2 * workers` batches are in flight, so memory stays bounded by the batch size, and
results come back in input order, so the output bytes do not depend on the worker count.
Workers are spawned (not forked): the caller may hold threads and DuckDB connections.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


def worker_count(configured: int, batches: int) -> int:
    """Processes to use: `configured` (0 = one per usable CPU), never more than the batches."""
    wanted = configured if configured > 0 else len(os.sched_getaffinity(0))
    return max(1, min(wanted, batches))


def ordered_map(function: Callable[[In], Out], items: Iterable[In], workers: int) -> Iterator[Out]:
    """`map(function, items)`, spread over `workers` processes when `workers > 1`.

    Args:
        function: A module-level function (or `functools.partial` of one) of one item; it and
            the items must pickle.
        items: Consumed lazily, at most `2 * workers` ahead of the results taken.
        workers: Worker processes; 1 runs everything in this process.

    Yields:
        `function(item)` for each item, in the order of `items`. An exception in a worker is
        raised here, at its item.
    """
    if workers <= 1:
        yield from map(function, items)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[Future[Out]] = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
