"""A sandbox that cannot set its limits is the machine's failure, never a row's failed tests.

When the driver's `setrlimit` fails (a limit the kernel cannot take, a hard limit the pipeline
may not raise), no code runs. Recorded as each row's `error`, every row of a `require_tests:
pass` family was gated out as tests_failed and the release went on without them. The driver
reports it before `start` and the run stops with `SandboxFailed` instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from born_assets.execution.environment import Environment
from born_assets.execution.harnesses import Job, build_job
from born_assets.execution.isolation import claimed_users, is_root
from born_assets.execution.outcome import SandboxFailed, judge
from born_assets.execution.rows import Plan, Runner, driver_source
from born_assets.execution.sandbox import RunOutcome, Sandbox
from born_assets.schemas.execution import Isolation
from born_assets.specs.execution_policy import ExecutionLimits, IsolationChoice
from born_assets.specs.task_tests import Harness
from born_assets.store.result_cache import ResultCache

NONCE = "n" * 32


@pytest.fixture(scope="module")
def user() -> Iterator[int | None]:
    with claimed_users(1) as users:
        yield users[0] if is_root() else None


def test_a_limit_the_kernel_cannot_take_stops_the_run(tmp_path: Path, user: int | None) -> None:
    # Past the policy's bound on purpose (model_copy does not validate): 2**60 MiB overflows.
    limits = ExecutionLimits(wall_seconds=10).model_copy(update={"memory_mb": 2**60})
    sandbox = Sandbox.create(
        IsolationChoice.LIMITS, limits, tmp_path, () if user is None else (user,)
    )
    environment = Environment.current(sandbox.isolation, limits)
    runner = Runner(sandbox, environment, ResultCache(tmp_path / "cache"), driver_source())
    job = build_job(Harness.MBPP, "def f():\n    return 1\n", {"test_list": ["assert f() == 1"]})
    assert isinstance(job, Job)
    with pytest.raises(SandboxFailed, match=r"execution\.limits\): OverflowError"):
        runner._run(Plan(job, Harness.MBPP, "0" * 64, "1" * 64, ()), slot=0)


def _outcome(*events: dict[str, object]) -> RunOutcome:
    lines = [json.dumps({"nonce": NONCE, "peak_kb": 1, **e}) for e in events]
    return RunOutcome(0, None, False, 0.1, 0, "", lines, Isolation.LIMITS)


def test_only_a_report_before_start_counts() -> None:
    with pytest.raises(SandboxFailed, match="could not set a run's limits"):
        judge(_outcome({"event": "confine_error", "message": "ValueError: x"}), NONCE, 1, 32)
    faked = _outcome(
        {"event": "start", "planned": 1},
        {"event": "confine_error", "message": "written by the code under test"},
    )
    assert judge(faked, NONCE, 1, 32).status.value == "error"
