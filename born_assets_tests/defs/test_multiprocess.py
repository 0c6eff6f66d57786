"""The multiprocess executor must cut the same release, byte for byte, as the serial build.

`BORN_EXECUTOR=multiprocess` runs each step of a job in a subprocess of its own, several at once,
against the same warehouse. A step that leans on state of the run's process, on the order in which
steps finish, or on a file another step is still writing would build a different (or broken)
release only there, and nobody compares the two by hand. This test runs the real `build_warehouse`
and `cut_release` jobs through `dg.execute_job` with the multiprocess executor on a persistent
instance, checks that steps really ran in subprocesses, two at once, and compares the release and
the curation tables with those of `born release`'s serial in-process build of another copy.

Each step pays a Python start-up, an import of dagster and born_assets and a load of the
definitions, so this test takes minutes where the serial build takes seconds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from born_assets.defs.assets.release import RELEASE_VERSIONS
from born_assets.defs.executor import EXECUTOR_ENV, MULTIPROCESS
from born_assets.defs.runner import failure_messages, materialize_release
from born_assets.layout import DATA_DIR_ENV, DataDir
from born_assets.store.memo import code_version
from born_assets_tests.conftest import copy_sample_data
from born_assets_tests.multiprocess_jobs import release_job, warehouse_job

VERSION = "v1"
# The jobs carry `multiprocess_executor` itself, so its config sits right under `execution.config`
# (the `multiprocess:` level belongs to Dagster's default `multi_or_in_process_executor`). The
# start method stays the default, `spawn`, as in a deployment that sets only BORN_EXECUTOR.
RUN_CONFIG = {"execution": {"config": {"max_concurrent": 2}}}
WAREHOUSE_TABLES = ("sanitized/rows.parquet", "gated/rows.parquet", "deduplicated/rows.parquet")
STEP_END = {"STEP_SUCCESS", "STEP_FAILURE"}

Span = tuple[float, float, int]  # (first, last) timestamp and pid of a step's subprocess


def execute(
    factory: Callable[[], dg.JobDefinition],
    instance: dg.DagsterInstance,
    tags: dict[str, str] | None = None,
) -> tuple[dg.JobExecutionResult, Sequence[dg.EventLogEntry]]:
    """Run the job out of process on `instance`; the result and the run's event log."""
    result = dg.execute_job(
        dg.reconstructable(factory), instance=instance, run_config=RUN_CONFIG, tags=tags
    )
    return result, instance.all_logs(result.run_id)


def event_type(entry: dg.EventLogEntry) -> str | None:
    return entry.dagster_event.event_type_value if entry.dagster_event is not None else None


def step_failures(entries: Sequence[dg.EventLogEntry]) -> list[str]:
    """`step: error` for every failed step of a run, to show when a run did not succeed."""
    return [
        f"{e.step_key}: {e.dagster_event.step_failure_data.error}"
        for e in entries
        if e.dagster_event is not None and event_type(e) == "STEP_FAILURE"
    ]


def worker_spans(entries: Sequence[dg.EventLogEntry]) -> dict[str, Span]:
    """Step key -> its subprocess's span: STEP_WORKER_STARTED to STEP_SUCCESS/FAILURE, and pid.

    The subprocess reports STEP_WORKER_STARTED once it runs, before it loads the job; the span is
    seconds long, where the step's own work (STEP_START on) takes a fraction of a second.
    """
    started: dict[str, tuple[float, int]] = {}
    spans: dict[str, Span] = {}
    for entry in entries:
        event = entry.dagster_event
        if event is None or entry.step_key is None or event.pid is None:
            continue
        if event.event_type_value == "STEP_WORKER_STARTED":
            started[entry.step_key] = (entry.timestamp, event.pid)
        elif event.event_type_value in STEP_END:
            start, pid = started[entry.step_key]
            assert event.pid == pid, f"{entry.step_key} started and ended in different processes"
            spans[entry.step_key] = (start, entry.timestamp, pid)
    return spans


def overlapping(spans: dict[str, Span]) -> list[tuple[str, str]]:
    """Pairs of steps whose subprocesses were running at the same moment."""
    ordered = sorted(spans.items(), key=lambda item: item[1][0])
    return [
        (first, second)
        for i, (first, (_, end, pid)) in enumerate(ordered)
        for second, (start, _, other_pid) in ordered[i + 1 :]
        if start < end and other_pid != pid
    ]


def engine_messages(entries: Sequence[dg.EventLogEntry]) -> list[str]:
    """The messages of the run's ENGINE_EVENTs (what the executor says it is doing)."""
    return [
        e.dagster_event.message or ""
        for e in entries
        if e.dagster_event is not None and event_type(e) == "ENGINE_EVENT"
    ]


def check_outcomes(
    evaluations: Sequence[dg.AssetCheckEvaluation],
) -> dict[tuple[str, str], bool]:
    return {(e.asset_key.to_user_string(), e.check_name): e.passed for e in evaluations}


def release_files(folder: Path) -> dict[str, bytes]:
    """Every file of a release folder, by its path in the folder."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def without_build_time(release_json: bytes) -> dict[str, Any]:
    """release.json without `built_at`, the one field that differs between identical builds."""
    document = json.loads(release_json)
    document.pop("built_at")
    return document


def build_in_parallel(
    data_dir: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Sequence[dg.EventLogEntry]], dict[tuple[str, str], bool]]:
    """`build_warehouse`, then `cut_release` for VERSION, with the multiprocess executor.

    Returns the two runs' event logs and the outcome of every check they evaluated.
    """
    monkeypatch.setenv(EXECUTOR_ENV, MULTIPROCESS)
    monkeypatch.setenv(DATA_DIR_ENV, str(data_dir))
    home.mkdir()
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        name = RELEASE_VERSIONS.name
        assert name is not None
        instance.add_dynamic_partitions(name, [VERSION])
        warehouse, warehouse_log = execute(warehouse_job, instance)
        assert warehouse.success, step_failures(warehouse_log)
        release, release_log = execute(release_job, instance, tags={"dagster/partition": VERSION})
        assert release.success, step_failures(release_log)
        evaluations = [
            *warehouse.get_asset_check_evaluations(),
            *release.get_asset_check_evaluations(),
        ]
    return [warehouse_log, release_log], check_outcomes(evaluations)


def test_the_multiprocess_executor_cuts_the_same_release_as_the_serial_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = code_version.__wrapped__()  # the files now; code_version() keeps its first answer
    monkeypatch.delenv(EXECUTOR_ENV, raising=False)
    serial_dir = copy_sample_data(tmp_path / "serial")
    serial = materialize_release(DataDir.at(serial_dir), VERSION)
    assert serial.success, failure_messages(serial)

    parallel_dir = copy_sample_data(tmp_path / "parallel")
    logs, parallel_checks = build_in_parallel(parallel_dir, tmp_path / "home", monkeypatch)
    changed = "born_assets sources changed while the test ran; run it again"
    assert code_version.__wrapped__() == code, changed

    warehouse_log, release_log = logs
    for log in logs:
        messages = engine_messages(log)
        assert any(m.startswith("Executing steps using multiprocess executor") for m in messages)
    spans = worker_spans(warehouse_log) | worker_spans(release_log)
    pids = {pid for _, _, pid in spans.values()}
    assert os.getpid() not in pids, "a step ran in the run's own process"
    assert len(pids) > 1
    assert overlapping(worker_spans(warehouse_log)), "no two step subprocesses ever overlapped"
    assert parallel_checks == check_outcomes(serial.get_asset_check_evaluations())

    serial_release = release_files(serial_dir / "releases" / VERSION)
    parallel_release = release_files(parallel_dir / "releases" / VERSION)
    assert sorted(parallel_release) == sorted(serial_release)
    serial_json = without_build_time(serial_release.pop("release.json"))
    assert without_build_time(parallel_release.pop("release.json")) == serial_json
    assert [n for n in serial_release if parallel_release[n] != serial_release[n]] == []
    for table in WAREHOUSE_TABLES:
        serial_table = (serial_dir / "warehouse" / table).read_bytes()
        assert (parallel_dir / "warehouse" / table).read_bytes() == serial_table, table
