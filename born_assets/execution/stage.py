"""The `executed` stage over Parquet (Dagster-free): dedup survivors in, test results and exits out.

It reads the survivors of `deduplicated` (each prompt once: runs are the costly part, seconds
where every other stage spends microseconds) with their task id, and the sanitized response of
those that have tests to run (the others are skipped without reading it), runs
each lane row's code against its task's tests in the sandbox (on `workers` threads, one
sandboxed process each, batch by batch in input order), and writes one `ExecutedRecord` per row.
Then the policy decides: under `require_tests: pass` a row whose status is in `fail_statuses`
leaves with the fate `gated_out` (reason `tests_failed`), or, when `severity` is `soft`, stays
with `score_factor` = `soft_failure_factor`.
"""

from __future__ import annotations

import queue
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from born_assets import layout
from born_assets.execution.rows import (
    Plan,
    Runner,
    Skip,
    measure,
    plan_row,
    skip_before_code,
    slot_queue,
)
from born_assets.schemas.execution import ExecutedRecord, ExecutionReason, ExecutionStatus
from born_assets.schemas.fates import ExitRecord, exit_row
from born_assets.schemas.reasons import Severity
from born_assets.schemas.vocabulary import Fate, Stage
from born_assets.specs.execution_policy import ExecutionPolicy, RequireTests
from born_assets.specs.task_tests import LoadedTests
from born_assets.store.parquet import ParquetSink
from born_assets.store.progress import Progress
from born_assets.store.texts import with_texts_where

_CANDIDATES_SQL = """
SELECT d.example_id, d.origin_kind, d.origin_id, d.source_file, d.source_line,
       d.source_benchmark, src.source_id
FROM read_parquet($deduplicated) AS d
JOIN read_parquet($sources, union_by_name = true) AS src ON src.example_id = d.example_id
"""
"""The candidates without their closure: `store.texts` sorts them and brings the response of
those whose plan reads it (a row with no tests to run is skipped without it)."""
_NARROW_PLAN = ["origin_kind", "origin_id", "source_benchmark", "source_id"]
"""The columns `rows.skip_before_code` decides from."""


@dataclass
class ExecutionSummary:
    """What the stage saw: rows by source and status, reasons, runs, cache hits, gated out."""

    rows: int = 0
    by_source_status: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    ran: int = 0
    cached: int = 0
    gated_out: int = 0
    scored_down: int = 0
    run_seconds: float = 0.0
    isolation: Counter[str] = field(default_factory=Counter)


def execute_candidates(
    con: duckdb.DuckDBPyConnection,
    *,
    deduplicated: Path,
    sanitized: Path,
    sources: Sequence[Path],
    tests: Mapping[str, LoadedTests | None],
    policy: ExecutionPolicy,
    runner: Runner,
    out_dir: Path,
    batch_rows: int,
    workers: int,
) -> ExecutionSummary:
    """Write `rows.parquet` (one result per survivor) and `exits.parquet` (gated out)."""
    params: dict[str, Any] = {
        "deduplicated": deduplicated.as_posix(),
        "sources": [p.as_posix() for p in sources],
    }
    ((total,),) = con.execute(f"SELECT count(*) FROM ({_CANDIDATES_SQL})", params).fetchall()
    summary = ExecutionSummary()
    slots = slot_queue(workers)
    with (
        tempfile.TemporaryDirectory(prefix=layout.SCRATCH_TEXTS, dir=out_dir) as scratch,
        ParquetSink(out_dir / layout.ROWS, ExecutedRecord, batch_rows) as rows,
        ParquetSink(out_dir / layout.EXITS, ExitRecord, batch_rows) as exits,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="born-exec") as pool,
    ):
        progress = Progress("tests run", total)  # by row: one batch can take minutes
        wanted = partial(_needs_response, tests, policy)
        reader = with_texts_where(
            con, _CANDIDATES_SQL, params, sanitized, ["response"], wanted, Path(scratch),
            batch_rows,
        )  # fmt: skip
        for batch in reader:
            candidates = batch.to_pylist()
            plans = [_plan(row, tests, policy) for row in candidates]
            for row, result in zip(candidates, _measured(plans, runner, slots, pool), strict=True):
                record = _decide(row, result, policy)
                rows.append(record)
                _count(summary, record)
                if record["is_gated_out"]:
                    exits.append(_exit(row, record))
                progress.advance(1)
        progress.finish()
    return summary


def _plan(
    row: dict[str, Any], tests: Mapping[str, LoadedTests | None], policy: ExecutionPolicy
) -> Plan | Skip:
    return plan_row(row, tests.get(row["origin_id"]), policy.requirement(row["source_benchmark"]))


def _measured(
    plans: Sequence[Plan | Skip],
    runner: Runner,
    slots: queue.Queue[int],
    pool: ThreadPoolExecutor,
) -> Iterator[dict[str, Any]]:
    """Each row's measurement, in order: its run on the pool's threads, or its skip here.

    A thread is worth a run (seconds); a skip costs microseconds, less than handing it to a thread.
    """
    runs: list[Future[dict[str, Any]] | Skip] = [
        pool.submit(measure, plan, runner, slots) if isinstance(plan, Plan) else plan
        for plan in plans
    ]
    for run in runs:
        yield runner.skipped(run) if isinstance(run, Skip) else run.result()


def _needs_response(
    tests: Mapping[str, LoadedTests | None], policy: ExecutionPolicy, batch: pa.RecordBatch
) -> pa.Array:
    """Per candidate: whether its plan reads the response (the others skip without it)."""
    return pa.array(
        [
            skip_before_code(
                row, tests.get(row["origin_id"]), policy.requirement(row["source_benchmark"])
            )
            is None
            for row in batch.select(_NARROW_PLAN).to_pylist()
        ],
        pa.bool_(),
    )


def _decide(row: dict[str, Any], result: dict[str, Any], policy: ExecutionPolicy) -> dict[str, Any]:
    """The policy's decision on one measured row: gated out, scored down, or left alone."""
    requirement = policy.requirement(row["source_benchmark"])
    failing = (
        requirement is RequireTests.PASS
        and ExecutionStatus(result["execution_status"]) in policy.fail_statuses
    )
    hard = failing and policy.severity is Severity.HARD
    soft = failing and policy.severity is Severity.SOFT
    return {
        "example_id": row["example_id"],
        "origin_id": row["origin_id"],
        "source_benchmark": row["source_benchmark"],
        **result,
        "require_tests": requirement.value,
        "score_factor": 0.0 if hard else policy.soft_failure_factor if soft else 1.0,
        "is_gated_out": hard,
    }


def _exit(row: dict[str, Any], record: dict[str, Any]) -> dict[str, object]:
    counts = (
        f", {record['tests_passed']}/{record['tests_total']} tests passed"
        if record["tests_total"] is not None
        else ""
    )
    detail = (
        f"{record['execution_status']} ({record['execution_reason']}{counts}): "
        f"{record['execution_detail'] or ''}"
    )[:500]
    return exit_row(row, Fate.GATED_OUT, Stage.EXECUTE, ExecutionReason.TESTS_FAILED.value, detail)


def _count(summary: ExecutionSummary, record: dict[str, Any]) -> None:
    summary.rows += 1
    summary.by_source_status[(record["origin_id"], record["execution_status"])] += 1
    if record["execution_reason"]:
        summary.by_reason[record["execution_reason"]] += 1
    if record["duration_s"] is not None:
        summary.cached += record["is_cached"]
        summary.ran += not record["is_cached"]
        summary.run_seconds += 0.0 if record["is_cached"] else record["duration_s"]
    summary.isolation[record["isolation"]] += 1
    summary.gated_out += record["is_gated_out"]
    summary.scored_down += 0.0 < record["score_factor"] < 1.0
