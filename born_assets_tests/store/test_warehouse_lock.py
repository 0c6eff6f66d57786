"""The warehouse lock: sources ingest side by side; a downstream writer waits for all of them."""

from __future__ import annotations

import threading
from pathlib import Path

import dagster as dg

from born_assets.defs.resources import WarehouseResource

WAIT_S = 10.0


def _hold(
    warehouse: WarehouseResource,
    key: dg.AssetKey,
    source: bool,
    inside: threading.Event,
    leave: threading.Event,
) -> threading.Thread:
    def body() -> None:
        with warehouse.publish(key, source=source) as staging:
            (staging / "rows.parquet").write_bytes(b"x")
            inside.set()
            assert leave.wait(WAIT_S)

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def test_two_sources_write_at_once_and_a_downstream_writer_waits(tmp_path: Path) -> None:
    warehouse = WarehouseResource(data_dir=str(tmp_path))
    lane_in, import_in, downstream_in = threading.Event(), threading.Event(), threading.Event()
    release_sources, release_downstream = threading.Event(), threading.Event()
    lane = _hold(warehouse, dg.AssetKey(["lanes", "a"]), True, lane_in, release_sources)
    other = _hold(warehouse, dg.AssetKey(["imports", "b"]), True, import_in, release_sources)
    assert lane_in.wait(WAIT_S) and import_in.wait(WAIT_S)  # both inside at the same time

    downstream = _hold(
        warehouse, dg.AssetKey(["sanitized"]), False, downstream_in, release_downstream
    )
    assert not downstream_in.wait(0.5)  # held off while the sources write
    release_sources.set()
    lane.join(WAIT_S)
    other.join(WAIT_S)
    assert downstream_in.wait(WAIT_S)
    release_downstream.set()
    downstream.join(WAIT_S)
    assert (tmp_path / "warehouse" / "sanitized" / "rows.parquet").read_bytes() == b"x"


def test_one_source_is_ingested_by_one_writer_at_a_time(tmp_path: Path) -> None:
    warehouse = WarehouseResource(data_dir=str(tmp_path))
    first_in, second_in, leave = threading.Event(), threading.Event(), threading.Event()
    first = _hold(warehouse, dg.AssetKey(["lanes", "a"]), True, first_in, leave)
    assert first_in.wait(WAIT_S)
    second = _hold(warehouse, dg.AssetKey(["lanes", "a"]), True, second_in, leave)
    assert not second_in.wait(0.5)
    leave.set()
    first.join(WAIT_S)
    assert second_in.wait(WAIT_S)
    second.join(WAIT_S)
