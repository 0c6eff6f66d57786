"""The `executed` asset: each dedup survivor's code run against its task's tests, in a sandbox."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg

from born_assets import layout
from born_assets.defs.assets.curation import DEDUPLICATED_KEY
from born_assets.defs.assets.sanitized import SANITIZED_KEY
from born_assets.defs.checks import (
    MAX_EXAMPLES,
    Check,
    in_words,
    remembered_check,
    schema_check,
)
from born_assets.defs.metadata import column_schema, counts_table, markdown_table, preview
from born_assets.defs.resources import WarehouseResource
from born_assets.defs.unchanged import remember_result, remembered_result
from born_assets.execution.environment import Environment
from born_assets.execution.isolation import SandboxUnavailable, claimed_users
from born_assets.execution.outcome import SandboxFailed
from born_assets.execution.rows import Runner, driver_source
from born_assets.execution.sandbox import Sandbox
from born_assets.execution.stage import ExecutionSummary, execute_candidates
from born_assets.schemas.execution import ExecutedRecord, Isolation
from born_assets.schemas.fates import ExitRecord
from born_assets.schemas.identity import sha256_hex
from born_assets.specs.execution_policy import ExecutionPolicy
from born_assets.specs.project import Project
from born_assets.specs.task_tests import LoadedTests
from born_assets.store.memo import code_version
from born_assets.store.parallel import worker_count
from born_assets.store.result_cache import ResultCache
from born_assets.store.unchanged import record

EXECUTED_KEY = dg.AssetKey(layout.Asset.EXECUTED)
GROUP = "curation"
OWNERS = ["team:data-eng"]
CACHE_ENV = "BORN_EXECUTION_CACHE"


def execution_cache_from_env(environ: Mapping[str, str] | None = None) -> str:
    """`$BORN_EXECUTION_CACHE` (a results folder several data dirs may share), or empty."""
    return (os.environ if environ is None else environ).get(CACHE_ENV, "")


def lane_tests(project: Project) -> dict[str, LoadedTests | None]:
    """Each lane's test records (None for a lane whose manifest names no tests)."""
    return {loaded.manifest.lane_id: loaded.tests for loaded in project.lanes}


def _runner(warehouse: WarehouseResource, users: tuple[int, ...]) -> Runner:
    policy = warehouse.load_policy().execution
    try:
        sandbox = Sandbox.create(policy.isolation, policy.limits, warehouse.root, users)
    except SandboxUnavailable as error:
        raise dg.Failure(description=f"{warehouse.data.policy}: {error}") from error
    environment = Environment.current(sandbox.isolation, policy.limits)
    cache = ResultCache(warehouse.execution_cache_dir)
    return Runner(sandbox, environment, cache, driver_source())


def _versions(
    policy: ExecutionPolicy, tests: Mapping[str, LoadedTests | None], runner: Runner
) -> dict[str, str]:
    """What the results depend on besides the rows: code, policy, tests and run environment."""
    lanes = {
        lane: None if t is None else [t.harness.value, t.file_sha256] for lane, t in tests.items()
    }
    return {
        "code": code_version(),
        "execution_policy": sha256_hex(policy.model_dump_json().encode("utf-8")),
        "tests": sha256_hex(json.dumps(lanes, sort_keys=True).encode("utf-8")),
        "environment": runner.environment.sha256,
    }


def _status_table(summary: ExecutionSummary) -> dg.MetadataValue:
    statuses: dict[str, Counter[str]] = {}
    for (origin, status), n in summary.by_source_status.items():
        statuses.setdefault(origin, Counter())[status] += n
    columns = ["origin_id", "passed", "failed", "error", "timeout", "not_executable", "pass_rate"]
    rows = []
    for origin, counts in sorted(statuses.items()):
        ran = sum(counts[s] for s in ("passed", "failed", "error", "timeout"))
        rate = f"{counts['passed'] / ran:.1%}" if ran else ""
        rows.append(
            {"origin_id": origin, **{c: counts[c] for c in columns[1:-1]}, "pass_rate": rate}
        )
    return dg.MetadataValue.md(markdown_table(rows, columns))


def executed_asset(
    sources: Sequence[dg.AssetKey], tests: Mapping[str, LoadedTests | None]
) -> dg.AssetsDefinition:
    """Run every dedup survivor's code against its task's tests; the policy gates failures."""

    @dg.asset(
        key=EXECUTED_KEY,
        deps=[DEDUPLICATED_KEY, SANITIZED_KEY, *sources],
        group_name=GROUP,
        kinds={"python", "duckdb", "parquet"},
        owners=OWNERS,
        description=(
            "One row per dedup survivor: its code run against its task's tests in a sandbox "
            "(status, tests passed/total, duration, peak memory, stderr tail, isolation, "
            "interpreter and library versions); rows the policy requires to pass and that do "
            "not are gated out as tests_failed."
        ),
    )
    def _executed(warehouse: WarehouseResource) -> dg.MaterializeResult:
        workers = worker_count(warehouse.workers, sys.maxsize)
        policy = warehouse.load_policy()
        deduplicated = warehouse.table(DEDUPLICATED_KEY, layout.ROWS)
        sanitized = warehouse.table(SANITIZED_KEY, layout.ROWS)
        source_rows = [warehouse.table(k, layout.ROWS) for k in sources]
        read = [deduplicated, sanitized, *source_rows]
        folder = warehouse.asset_dir(EXECUTED_KEY)
        with claimed_users(workers) as users:
            runner = _runner(warehouse, users)
            versions = _versions(policy.execution, tests, runner)
            unchanged = remembered_result(warehouse, folder, read, versions)
            if unchanged is not None:
                return unchanged
            with warehouse.publish(EXECUTED_KEY) as staging, warehouse.connect() as con:
                try:
                    summary = execute_candidates(
                        con,
                        deduplicated=deduplicated,
                        sanitized=sanitized,
                        sources=source_rows,
                        tests=tests,
                        policy=policy.execution,
                        runner=runner,
                        out_dir=staging,
                        batch_rows=warehouse.batch_rows,
                        workers=workers,
                    )
                except SandboxFailed as error:  # the machine's fault: no row may pay for it
                    raise dg.Failure(description=f"{warehouse.data.policy}: {error}") from error
                step = record(staging, read, versions)
        path = warehouse.table(EXECUTED_KEY, layout.ROWS)
        return remember_result(
            warehouse,
            folder,
            step,
            {
                "dagster/row_count": summary.rows,
                "dagster/column_schema": column_schema(ExecutedRecord),
                "policy_sha256": policy.content_hash,
                "isolation": dict(sorted(summary.isolation.items())),
                "environment_sha256": runner.environment.sha256,
                "interpreter": runner.environment.interpreter,
                "workers": workers,
                "rows_run": summary.ran,
                "rows_from_cache": summary.cached,
                "run_seconds": round(summary.run_seconds, 2),
                "rows_gated_out": summary.gated_out,
                "rows_scored_down": summary.scored_down,
                "status_by_source": _status_table(summary),
                "rows_by_reason": counts_table(summary.by_reason, "reason"),
                "preview": preview(
                    path,
                    ["example_id", "execution_status", "tests_passed", "tests_total", "isolation"],
                ),
                "path": dg.MetadataValue.path(str(path)),
            },
        )

    return _executed


def executed_checks() -> list[Check]:
    """Schemas, one result per dedup survivor, and a warning when runs were not namespaced."""

    def results(warehouse: WarehouseResource) -> list[Path]:
        return [warehouse.table(EXECUTED_KEY, layout.ROWS)]

    def survivors_and_results(warehouse: WarehouseResource) -> list[Path]:
        return [warehouse.table(DEDUPLICATED_KEY, layout.ROWS), *results(warehouse)]

    @remembered_check(
        asset=EXECUTED_KEY,
        name="one_result_per_survivor",
        description="Every dedup survivor has exactly one result, and no other row has one.",
        reads=survivors_and_results,
    )
    def _one_each(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        survivors, outcomes = survivors_and_results(warehouse)
        with warehouse.connect() as con:
            bad = con.execute(
                "SELECT coalesce(d.example_id, x.example_id) FROM read_parquet($d) AS d "
                "FULL OUTER JOIN read_parquet($x) AS x ON d.example_id = x.example_id "
                "WHERE d.example_id IS NULL OR x.example_id IS NULL ORDER BY 1",
                {"d": survivors.as_posix(), "x": outcomes.as_posix()},
            ).fetchall()
        return dg.AssetCheckResult(
            passed=not bad,
            description=in_words(len(bad), "rows without exactly one execution outcome", bad),
            metadata={"mismatched": len(bad), "examples": [b[0] for b in bad[:MAX_EXAMPLES]]},
        )

    @remembered_check(
        asset=EXECUTED_KEY,
        name="runs_namespaced",
        description=(
            "Every run that executed code had bubblewrap's namespaces; fails (not blocking) when "
            "some ran with limits alone (no file-system or network isolation)."
        ),
        reads=results,
        blocking=False,
    )
    def _namespaced(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        (outcomes,) = results(warehouse)
        with warehouse.connect() as con:
            ((weaker,),) = con.execute(
                "SELECT count(*) FROM read_parquet($x) WHERE isolation = $limits",
                {"x": outcomes.as_posix(), "limits": Isolation.LIMITS.value},
            ).fetchall()
        return dg.AssetCheckResult(
            passed=weaker == 0,
            description=in_words(weaker, "rows run with resource limits alone, no namespaces", []),
            metadata={"rows_limits_only": weaker},
        )

    return [
        schema_check(EXECUTED_KEY, layout.ROWS, ExecutedRecord),
        schema_check(EXECUTED_KEY, layout.EXITS, ExitRecord),
        _one_each,
        _namespaced,
    ]
