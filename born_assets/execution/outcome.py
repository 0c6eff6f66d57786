"""From what a run did to a verdict: status, reason, detail, tests passed and total.

Only the driver's events carrying the run's nonce count, and only a `done` event makes a run
complete: a process that exits early (even with code 0, e.g. `os._exit(0)` mid-test) is an error.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, replace
from typing import Any

from born_assets.execution.sandbox import RunOutcome
from born_assets.schemas.execution import ExecutionReason, ExecutionStatus

_EFBIG = "[Errno 27]"


@dataclass(frozen=True)
class Verdict:
    """What was observed."""

    status: ExecutionStatus
    reason: ExecutionReason | None
    detail: str | None
    tests_passed: int | None
    tests_total: int | None
    started: bool = True  # the driver ran (False: the sandbox itself failed; never cached)
    peak_memory_kb: int | None = None  # the largest RSS the driver saw (its own, its children's)


def events(run: RunOutcome, nonce: str) -> list[dict[str, Any]]:
    """The driver's events of this run (lines without the nonce are ignored)."""
    found = []
    for line in run.result_lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("nonce") == nonce:
            found.append(event)
    return found


def _verdict(
    run: RunOutcome, seen: list[dict[str, Any]], planned: int, file_size_mb: int
) -> Verdict:
    tests = [e for e in seen if e["event"] == "test"]
    passed = sum(bool(t.get("ok")) for t in tests)
    total = max(planned, len(tests))
    first_failure = next((t for t in tests if not t.get("ok")), None)
    failure = f"{first_failure['name']}: {first_failure['message']}" if first_failure else None
    progress = f"{passed}/{total} tests passed before"
    if run.timed_out:
        detail = f"{progress} the wall-clock limit ({run.duration_s:.1f} s)"
        return Verdict(ExecutionStatus.TIMEOUT, ExecutionReason.WALL_TIME, detail, passed, total)
    if run.signal == signal.SIGXCPU:
        detail = f"{progress} the CPU-time limit"
        return Verdict(ExecutionStatus.TIMEOUT, ExecutionReason.CPU_TIME, detail, passed, total)
    setup_error = next((e for e in seen if e["event"] == "setup_error"), None)
    if setup_error is not None:
        return _setup_failed(setup_error, total)
    done = next((e for e in seen if e["event"] == "done"), None)
    if done is not None:
        if tests and passed == len(tests):
            return Verdict(ExecutionStatus.PASSED, None, None, passed, len(tests))
        detail = failure or "no test ran"
        return Verdict(ExecutionStatus.FAILED, ExecutionReason.TESTS_FAILED, detail, passed, total)
    return _unfinished(run, failure, progress, passed, total, file_size_mb)


class SandboxFailed(RuntimeError):
    """The driver could not set the run's limits: no code ran, and no row is to blame."""


def judge(run: RunOutcome, nonce: str, planned: int, file_size_mb: int) -> Verdict:
    """The verdict on one run of a job that planned `planned` tests, with its peak memory.

    Raises:
        SandboxFailed: the driver reported that it could not confine itself. Only a report
            before `start` counts: the driver writes `start` before any untrusted code runs, so
            the code cannot fake one.
    """
    seen = events(run, nonce)
    if not any(e["event"] == "start" for e in seen):
        failed = next((e for e in seen if e["event"] == "confine_error"), None)
        if failed is not None:
            raise SandboxFailed(
                f"the sandbox could not set a run's limits (execution.limits): {failed['message']}"
            )
    verdict = _verdict(run, seen, planned, file_size_mb)
    started = run.timed_out or any(e["event"] == "start" for e in seen)
    peaks = [e["peak_kb"] for e in seen if isinstance(e.get("peak_kb"), int)]
    return replace(verdict, started=started, peak_memory_kb=max(peaks) if peaks else None)


def _setup_failed(event: dict[str, Any], total: int) -> Verdict:
    message = f"{event['stage']}: {event['message']}"
    if event.get("module") and event["message"].startswith("ModuleNotFoundError"):
        detail = f"not installed: {event['module']}"
        return Verdict(
            ExecutionStatus.NOT_EXECUTABLE, ExecutionReason.MISSING_LIBRARY, detail, None, total
        )
    if "MemoryError" in event["message"]:
        return Verdict(ExecutionStatus.ERROR, ExecutionReason.MEMORY_LIMIT, message, 0, total)
    if _EFBIG in event["message"]:
        return Verdict(ExecutionStatus.ERROR, ExecutionReason.OUTPUT_LIMIT, message, 0, total)
    return Verdict(ExecutionStatus.ERROR, ExecutionReason.SETUP_FAILED, message, 0, total)


def _unfinished(
    run: RunOutcome,
    failure: str | None,
    progress: str,
    passed: int,
    total: int,
    file_size_mb: int,
) -> Verdict:
    ended = (
        f"signal {signal.Signals(run.signal).name}" if run.signal else f"exit code {run.exit_code}"
    )
    detail = f"{progress} the process ended ({ended})" + (f"; {failure}" if failure else "")
    if run.stdout_bytes >= file_size_mb * 1024 * 1024 or _EFBIG in (failure or run.stderr_tail):
        return Verdict(ExecutionStatus.ERROR, ExecutionReason.OUTPUT_LIMIT, detail, passed, total)
    if "MemoryError" in (failure or run.stderr_tail):
        return Verdict(ExecutionStatus.ERROR, ExecutionReason.MEMORY_LIMIT, detail, passed, total)
    return Verdict(ExecutionStatus.ERROR, ExecutionReason.EXITED_EARLY, detail, passed, total)
