"""Run a per-batch function over a stream of batches on several cores, results in input order.

The CPU-bound stages (the closure rewrite, the gates) are pure functions of one record batch, so
they fan out to worker processes while the calling process keeps reading and writing Parquet.
At most `2 * workers` batches are in flight, so memory stays bounded by the batch size, and
results come back in input order, so the output bytes do not depend on the worker count.
Workers come from a fork server (`multiprocessing`'s "forkserver" start method): a clean process,
started once per run, that imports the project once and forks a worker per pool in milliseconds.
The caller itself is never forked (it may hold threads and DuckDB connections), and a worker does
not re-import Dagster and the project, which cost about 3 s of wall and 4.5 CPU-s per spawned
worker (18% of a 10k build's CPU).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing.context import BaseContext
from typing import Any, Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")
Shared = TypeVar("Shared")
PRELOADED = "born_assets.defs.location"
"""Imported once by the fork server: every stage function a worker may be handed."""


def worker_count(configured: int, batches: int) -> int:
    """Processes to use: `configured` (0 = one per usable CPU), never more than the batches."""
    wanted = configured if configured > 0 else len(os.sched_getaffinity(0))
    return max(1, min(wanted, batches))


@dataclass(frozen=True)
class Lookahead(Generic[In]):
    """Items `ordered_map` runs in the calling process, and how far it reads ahead past them."""

    trivial: Callable[[In], bool]
    """Items for which the function is trivial (an empty batch, say): run here, not sent to a
    worker, and not counted in the workers' window."""
    items: int
    """How many items may be read ahead of the results taken, so that work further on reaches
    the workers while the caller is busy with the trivial items before it. Each item read ahead
    is held until its result is taken."""


def ordered_map(
    function: Callable[[In], Out],
    items: Iterable[In],
    workers: int,
    ahead: Lookahead[In] | None = None,
) -> Iterator[Out]:
    """`map(function, items)`, spread over `workers` processes when `workers > 1`.

    Args:
        function: A module-level function (or `functools.partial` of one) of one item; it and
            the items must pickle.
        items: Consumed lazily, at most `2 * workers` items in the workers ahead of the results
            taken (and, with `ahead`, at most `ahead.items` in all).
        workers: Worker processes; 1 runs everything in this process.
        ahead: Which items run here, and how far to read ahead past them.

    Yields:
        `function(item)` for each item, in the order of `items`. An exception in a worker is
        raised here, at its item.
    """
    if workers <= 1:
        yield from map(function, items)
        return
    with ProcessPoolExecutor(workers, mp_context=worker_context()) as pool:
        yield from _in_order(pool, function, items, workers, ahead)


def ordered_map_shared(
    function: Callable[[Shared, In], Out], shared: Shared, items: Iterable[In], workers: int
) -> Iterator[Out]:
    """`function(shared, item)` for each item, as `ordered_map` does it.

    `shared` (large, the same for every item: an index, say) is pickled once per worker process,
    when it starts, instead of once per item.
    """
    if workers <= 1:
        yield from (function(shared, item) for item in items)
        return
    with ProcessPoolExecutor(
        workers, mp_context=worker_context(), initializer=_share, initargs=(function, shared)
    ) as pool:
        yield from _in_order(pool, _call_shared, items, workers)


def ordered_thread_map(
    function: Callable[[In], Out], items: Iterable[In], threads: int
) -> Iterator[Out]:
    """`map(function, items)` on `threads` threads, lazily and in order, as `ordered_map` does it.

    For a function that spends its time in code that releases the GIL (Arrow's compute kernels,
    Parquet decoding): no pickling, no process.
    """
    if threads <= 1:
        yield from map(function, items)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="born-map") as pool:
        yield from _in_order(pool, function, items, threads)


def read_ahead(items: Iterable[In]) -> Generator[In, None, None]:
    """`items` in order, the next one produced on a thread while the caller works on this one.

    For a producer and a consumer that each spend their time in code that releases the GIL
    (Parquet decoding and encoding, Arrow's kernels): on two cores they overlap. One item more
    than the caller holds is in memory; the producer's code runs on the thread, one call at a
    time, and its exceptions are raised here, at their item.
    """
    iterator = iter(items)

    def produce() -> In | _End:
        return next(iterator, _END)

    try:
        with ThreadPoolExecutor(1, thread_name_prefix="born-ahead") as pool:
            future = pool.submit(produce)
            while not isinstance(item := future.result(), _End):
                future = pool.submit(produce)
                yield item
    finally:  # the thread is done: a producer left early is closed here, on the caller's thread
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class _End:
    """The end of the items `read_ahead` produces."""


_END = _End()


def _in_order(
    pool: Executor,
    function: Callable[[In], Out],
    items: Iterable[In],
    workers: int,
    ahead: Lookahead[In] | None = None,
) -> Iterator[Out]:
    pending: deque[Future[Out]] = deque()
    submitted = 0  # futures in `pending` that went to the pool
    held = max(ahead.items if ahead else 0, 2 * workers)
    for item in items:
        if ahead is not None and ahead.trivial(item):
            pending.append(_done(function(item)))
        else:
            pending.append(pool.submit(function, item))
            submitted += 1
        while pending and (submitted >= 2 * workers or len(pending) > held):
            first = pending.popleft()
            submitted -= not isinstance(first, _Done)
            yield first.result()
    while pending:
        yield pending.popleft().result()


class _Done(Future[Out]):
    """A result computed in the calling process, queued in order with the workers' futures."""


def _done(result: Out) -> Future[Out]:
    future: _Done[Out] = _Done()
    future.set_result(result)
    return future


_shared_call: Callable[[Any], Any] | None = None
"""In a worker of `ordered_map_shared`: its function with the shared value bound."""


def _share(function: Callable[[Shared, In], Out], shared: Shared) -> None:
    global _shared_call
    _shared_call = partial(function, shared)


def _call_shared(item: Any) -> Any:
    assert _shared_call is not None, "not in a worker of ordered_map_shared"
    return _shared_call(item)


def worker_context() -> BaseContext:
    """The fork-server context, its server preloading this run's main module and the project.

    A worker re-runs the main module's body (as every non-forked worker must), but with its
    imports already loaded by the server that forked it, so that takes no time. The preload list
    is read when the server starts, on the first pool of the process; it lives until the process
    exits.
    """
    context = multiprocessing.get_context("forkserver")
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    main = "__main__" if spec is None else spec.name
    context.set_forkserver_preload([main, PRELOADED])
    return context
