"""One row through the stage: plan it (or say why it cannot run), run it or take the cache's word.

`plan_row` decides, without running anything, whether the row can run: a lane whose manifest
names tests, a policy that does not say `off`, a test record for the task, Python code, every
third-party module installed. `execute_row` runs a plan in the sandbox (or reads the cache) and
returns the row of the `executed` table, before the policy's decision.
"""

from __future__ import annotations

import json
import queue
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from born_assets.execution.cache import cache_key
from born_assets.execution.code import code_of, imported_modules, missing, third_party
from born_assets.execution.environment import Environment
from born_assets.execution.harnesses import Job, NotRunnable, build_job
from born_assets.execution.outcome import judge
from born_assets.execution.sandbox import Sandbox
from born_assets.schemas.execution import ExecutionReason, ExecutionStatus, Isolation
from born_assets.schemas.identity import sha256_hex
from born_assets.schemas.vocabulary import OriginKind
from born_assets.specs.execution_policy import RequireTests
from born_assets.specs.task_tests import Harness, LoadedTests
from born_assets.store.result_cache import ResultCache

DRIVER_ARGV = ("python", "-I", "{run}/driver.py")
DRIVER_FILE = "driver.py"


def driver_source() -> bytes:
    """The source of `driver.py`, copied into every run's folder."""
    return (Path(__file__).parent / DRIVER_FILE).read_bytes()


@dataclass(frozen=True)
class Plan:
    """A row ready to run: its job, hashes and the modules it imports."""

    job: Job
    harness: Harness
    code_sha256: str
    tests_sha256: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class Skip:
    """A row that cannot run, and why."""

    reason: ExecutionReason
    detail: str
    harness: Harness | None = None
    code_sha256: str | None = None
    tests_sha256: str | None = None


def plan_row(
    row: dict[str, Any], tests: LoadedTests | None, requirement: RequireTests
) -> Plan | Skip:
    """What to run for `row` (a candidate with origin, source_id and sanitized response)."""
    skip = skip_before_code(row, tests, requirement)
    if skip is not None:
        return skip
    assert tests is not None  # skip_before_code skips a row without tests
    record = tests.records[row["source_id"]]
    tests_sha256 = tests.record_sha256(row["source_id"])
    code = code_of(row["response"]) if tests.harness is not Harness.SWEBENCH else ""
    if code is None:
        detail = "the response's ## Code section holds no Python code"
        return Skip(ExecutionReason.NO_CODE, detail, tests.harness, None, tests_sha256)
    code_sha256 = sha256_hex((code or row["response"]).encode("utf-8"))
    job = build_job(tests.harness, code, record)
    if isinstance(job, NotRunnable):
        return Skip(job.reason, job.detail, tests.harness, code_sha256, tests_sha256)
    modules = third_party(imported_modules(job.sources()))
    absent = missing(modules)
    if absent:
        detail = "not installed: " + ", ".join(absent)
        return Skip(
            ExecutionReason.MISSING_LIBRARY, detail, tests.harness, code_sha256, tests_sha256
        )
    return Plan(job, tests.harness, code_sha256, tests_sha256, tuple(sorted(modules)))


def skip_before_code(
    row: dict[str, Any], tests: LoadedTests | None, requirement: RequireTests
) -> Skip | None:
    """Why `row` cannot run whatever its response holds (it is not read), or None.

    No task tests for its origin, `require_tests: off` for its family, or no test record for
    its task: decided from the narrow columns alone.
    """
    if row["origin_kind"] != OriginKind.LANE.value or tests is None:
        return Skip(ExecutionReason.NO_TESTS, f"{row['origin_id']} names no task tests")
    if requirement is RequireTests.OFF:
        return Skip(
            ExecutionReason.POLICY_OFF, f"require_tests is off for {row['source_benchmark']}"
        )
    if row["source_id"] not in tests.records:
        detail = f"{tests.path.name} has no record for task {row['source_id']}"
        return Skip(ExecutionReason.TASK_WITHOUT_TESTS, detail, tests.harness)
    return None


@dataclass(frozen=True)
class Runner:
    """What every run shares: the sandbox, the environment, the cache, the driver's source."""

    sandbox: Sandbox
    environment: Environment
    cache: ResultCache
    driver: bytes

    def skipped(self, skip: Skip) -> dict[str, Any]:
        """The measurement columns of a row that did not run."""
        return {
            "harness": skip.harness.value if skip.harness else None,
            "execution_status": ExecutionStatus.NOT_EXECUTABLE.value,
            "execution_reason": skip.reason.value,
            "execution_detail": skip.detail,
            "tests_passed": None,
            "tests_total": None,
            "duration_s": None,
            "peak_memory_kb": None,
            "exit_code": None,
            "stderr_tail": None,
            "isolation": Isolation.NONE.value,
            "interpreter": None,
            "library_versions": None,
            "test_command": None,
            "code_sha256": skip.code_sha256,
            "tests_sha256": skip.tests_sha256,
            "environment_sha256": self.environment.sha256,
            "is_cached": False,
        }

    def execute(self, plan: Plan, slot: int) -> dict[str, Any]:
        """The measurement columns of a planned row: from the cache, or from a sandboxed run."""
        key = cache_key(plan.code_sha256, plan.tests_sha256, self.environment.sha256)
        cached = self.cache.get(key)
        if cached is not None:
            return {**cached, "is_cached": True}
        result, started = self._run(plan, slot)
        if started:
            self.cache.put(key, result)
        return {**result, "is_cached": False}

    def _run(self, plan: Plan, slot: int) -> tuple[dict[str, Any], bool]:
        nonce = secrets.token_hex(16)
        stdin = json.dumps(plan.job.payload(nonce)).encode("utf-8")
        run = self.sandbox.run(DRIVER_ARGV, stdin, {DRIVER_FILE: self.driver}, slot)
        verdict = judge(run, nonce, plan.job.planned, self.sandbox.limits.file_size_mb)
        return {
            "harness": plan.harness.value,
            "execution_status": verdict.status.value,
            "execution_reason": verdict.reason.value if verdict.reason else None,
            "execution_detail": verdict.detail,
            "tests_passed": verdict.tests_passed,
            "tests_total": verdict.tests_total,
            "duration_s": run.duration_s,
            "peak_memory_kb": verdict.peak_memory_kb,
            "exit_code": run.exit_code if run.signal is None else -run.signal,
            "stderr_tail": run.stderr_tail or None,
            "isolation": run.isolation.value,
            "interpreter": self.environment.interpreter,
            "library_versions": json.dumps(self.environment.versions(plan.modules), sort_keys=True),
            "test_command": plan.job.command,
            "code_sha256": plan.code_sha256,
            "tests_sha256": plan.tests_sha256,
            "environment_sha256": self.environment.sha256,
        }, verdict.started


def slot_queue(workers: int) -> queue.Queue[int]:
    """Worker slots 0..workers-1: a run takes one (its user, as root) and gives it back."""
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(workers):
        slots.put(slot)
    return slots


def measure(plan: Plan, runner: Runner, slots: queue.Queue[int]) -> dict[str, Any]:
    """The measurement columns of one planned row, holding a slot while it runs."""
    slot = slots.get()
    try:
        return runner.execute(plan, slot)
    finally:
        slots.put(slot)
