"""Worker processes for the CPU-bound stages: order kept, errors raised, bytes unchanged."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from born_assets.defs.resources import WarehouseResource
from born_assets.store.parallel import (
    Lookahead,
    ordered_map,
    ordered_map_shared,
    read_ahead,
    worker_count,
)
from born_assets_tests.graph import UNPARTITIONED, definitions, nodes

STAGE_TABLES = ("sanitized/rows.parquet", "sanitized/exits.parquet", "gated/rows.parquet")


def square(value: int) -> int:
    if value == 13:
        raise ValueError("thirteen")
    return value * value


def test_ordered_map_keeps_input_order_across_processes() -> None:
    items = range(12)
    assert list(ordered_map(square, items, workers=2)) == [i * i for i in items]


def test_ordered_map_raises_a_worker_error_at_its_item() -> None:
    results = ordered_map(square, range(10, 20), workers=2)
    assert [next(results) for _ in range(3)] == [100, 121, 144]
    with pytest.raises(ValueError, match="thirteen"):
        next(results)


def is_even(value: int) -> bool:
    return value % 2 == 0


def twice(value: int) -> int:
    return 2 * value


def is_small(value: int) -> bool:
    return value < 30


def test_trivial_items_run_here_while_the_workers_take_items_further_ahead() -> None:
    read: list[int] = []

    def items() -> Iterator[int]:
        for value in range(40):
            read.append(value)
            yield value

    results = ordered_map(twice, items(), workers=2, ahead=Lookahead(is_small, 10))
    assert next(results) == 0
    assert len(read) == 11  # ten held ahead of the one handed over
    assert [next(results) for _ in range(20)] == [2 * i for i in range(1, 21)]
    assert len(read) == 31  # item 30 is in a worker while items 21-29 wait their turn here
    assert list(results) == [2 * i for i in range(21, 40)]
    read.clear()
    unbounded = ordered_map(twice, items(), workers=2)
    assert next(unbounded) == 0
    assert len(read) == 4  # without a lookahead, two items a worker
    assert list(unbounded) == [2 * i for i in range(1, 40)]


def test_the_workers_window_holds_with_trivial_items_ahead() -> None:
    read: list[int] = []

    def items() -> Iterator[int]:
        for value in (1, 3, 5, 7, 9, 11, 2, 4):
            read.append(value)
            yield value

    results = ordered_map(square, items(), workers=2, ahead=Lookahead(is_even, 10))
    assert next(results) == 1
    assert len(read) == 4  # four odd ones in the workers: none read further
    assert list(results) == [9, 25, 49, 81, 121, 4, 16]


class Offset:
    """A shared value that counts how often this process pickled it."""

    pickled = 0

    def __init__(self, by: int) -> None:
        self.by = by

    def __getstate__(self) -> dict[str, int]:
        Offset.pickled += 1
        return {"by": self.by}


def shifted(offset: Offset, value: int) -> int:
    return value + offset.by


def test_the_shared_value_goes_to_each_worker_once_not_with_each_item() -> None:
    Offset.pickled = 0
    items = range(40)
    results = list(ordered_map_shared(shifted, Offset(1000), items, workers=2))
    assert results == [i + 1000 for i in items]
    assert 1 <= Offset.pickled <= 2  # once per worker process started
    assert list(ordered_map_shared(shifted, Offset(5), items, workers=1)) == [i + 5 for i in items]


def test_read_ahead_produces_one_item_ahead_on_another_thread() -> None:
    read: list[tuple[int, str]] = []

    def items() -> Iterator[int]:
        for value in range(5):
            read.append((value, threading.current_thread().name))
            yield value

    results = read_ahead(items())
    assert next(results) == 0
    assert [value for value, _ in read] in ([0], [0, 1])  # the next one may be under way
    assert next(results) == 1
    assert [value for value, _ in read][:2] == [0, 1] and len(read) <= 3
    assert list(results) == [2, 3, 4]
    assert {name for _, name in read} != {threading.current_thread().name}


def test_read_ahead_raises_the_producers_error_at_its_item() -> None:
    results = read_ahead(square(value) for value in range(10, 20))
    assert [next(results) for _ in range(3)] == [100, 121, 144]
    with pytest.raises(ValueError, match="thirteen"):
        next(results)


def test_a_consumer_that_stops_early_closes_the_producer() -> None:
    closed: list[bool] = []

    def items() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            closed.append(True)

    producer = items()  # held here too, so only an explicit close can end it
    results = read_ahead(producer)
    assert next(results) == 0
    results.close()
    assert closed == [True]


def test_worker_count_never_exceeds_the_batches() -> None:
    assert worker_count(4, batches=1) == 1
    assert worker_count(4, batches=10) == 4
    assert worker_count(0, batches=10) >= 1


def _build(data_dir: Path, selection: str, workers: int) -> dict[str, str]:
    defs = definitions(data_dir)
    warehouse = WarehouseResource(data_dir=str(data_dir), batch_rows=50, workers=workers)
    dg.materialize(
        nodes(defs),
        resources={**(defs.resources or {}), "warehouse": warehouse},
        selection=selection,
        instance=dg.DagsterInstance.ephemeral(),
    )
    return {
        name: hashlib.sha256((data_dir / "warehouse" / name).read_bytes()).hexdigest()
        for name in STAGE_TABLES
    }


def test_two_workers_write_the_same_bytes_as_one(data_dir: Path) -> None:
    """The sample in 50-row batches through two processes equals the serial build."""
    serial = _build(data_dir, UNPARTITIONED, workers=1)
    parallel = _build(data_dir, "key:sanitized or key:gated", workers=2)
    assert parallel == serial
