"""The test driver that runs inside the sandbox (standard library only; copied into each run).

    python -I driver.py SETTINGS RESULT_FD < job.json

SETTINGS (JSON) holds the resource limits to set (soft = hard) and the user to become (-1: stay)
once the job is read, before any untrusted code runs (as root, the sandbox starts the driver as
root only so that it can switch). The job (JSON on stdin) holds a
nonce, the set-up sources (the code, then the test module) and the tests: source units, a
unittest class, or input/expected-output cases. The driver reads the whole job before any
untrusted code runs, then writes one JSON line per event to RESULT_FD, each carrying the nonce:
`start` (tests planned), `setup_error`, one `test` per test, `done`. A run without `done` did
not finish (it exited, was killed or timed out), whatever its exit code. A driver that cannot
set its limits writes `confine_error` instead of `start` and runs nothing.

The code runs in this process: it can do anything the sandbox allows, including lying to this
driver. The sandbox contains harm; the driver only counts.
"""

from __future__ import annotations

import copy
import json
import math
import os
import resource
import sys
import traceback
import unittest
from typing import Any

MESSAGE_CHARS = 300


class Reporter:
    """Writes result events to the result descriptor, each with the job's nonce."""

    def __init__(self, fd: int, nonce: str) -> None:
        self.stream = os.fdopen(fd, "w", encoding="utf-8", closefd=False)
        self.nonce = nonce
        self.passed = 0
        self.total = 0

    def event(self, kind: str, **fields: Any) -> None:
        """One event line with the peak RSS so far (KiB), flushed at once (the run may die)."""
        peak = max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        event = {"nonce": self.nonce, "event": kind, "peak_kb": peak, **fields}
        self.stream.write(json.dumps(event) + "\n")
        self.stream.flush()

    def test(self, name: str, ok: bool, message: str = "") -> None:
        """A test's outcome."""
        self.total += 1
        self.passed += ok
        self.event("test", name=name, ok=ok, message=message[:MESSAGE_CHARS])


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    return text[:MESSAGE_CHARS]


def _run_source(source: str, name: str, namespace: dict[str, Any]) -> None:
    exec(compile(source, name, "exec"), namespace)


def _source_units(units: list[dict[str, Any]], namespace: dict[str, Any], out: Reporter) -> None:
    for unit in units:
        try:
            _run_source(unit["source"], unit["name"], namespace)
        except BaseException as error:  # noqa: BLE001 - the code's failure is the measurement
            if not unit["counted"]:
                out.test(unit["name"], False, "set-up statement failed: " + _describe(error))
                continue
            out.test(unit["name"], False, _describe(error))
        else:
            if unit["counted"]:
                out.test(unit["name"], True)


class _Counting(unittest.TestResult):
    def __init__(self, out: Reporter) -> None:
        super().__init__()
        self.out = out

    def addSuccess(self, test: unittest.TestCase) -> None:  # noqa: N802 - unittest's name
        self.out.test(test.id().rsplit(".", 1)[-1], True)

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:  # noqa: N802
        self.out.test(test.id().rsplit(".", 1)[-1], False, _describe(err[1]))

    def addError(self, test: unittest.TestCase, err: Any) -> None:  # noqa: N802
        self.out.test(test.id().rsplit(".", 1)[-1], False, _describe(err[1]))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:  # noqa: N802
        self.out.test(test.id().rsplit(".", 1)[-1], True, "skipped: " + reason)


def _unittest(class_name: str, namespace: dict[str, Any], out: Reporter) -> None:
    case = namespace.get(class_name)
    if not (isinstance(case, type) and issubclass(case, unittest.TestCase)):
        out.test(class_name, False, f"no unittest class {class_name!r}")
        return
    suite = unittest.TestLoader().loadTestsFromTestCase(case)
    suite.run(_Counting(out))


def _same(got: Any, expected: Any, atol: float) -> bool:
    """Equal, or close for floats (EvalPlus: rel 1e-7, abs atol), element by element."""
    if isinstance(expected, float) or (isinstance(got, float) and isinstance(expected, int)):
        if not isinstance(got, int | float) or isinstance(got, bool):
            return False
        if math.isnan(expected) and math.isnan(got):
            return True
        return math.isclose(got, expected, rel_tol=1e-7, abs_tol=atol)
    if isinstance(expected, list | tuple) and type(got) is type(expected):
        return len(got) == len(expected) and all(
            _same(g, e, atol) for g, e in zip(got, expected, strict=True)
        )
    try:
        return bool(got == expected)
    except Exception:  # noqa: BLE001 - an object whose == raises is not equal
        return False


def _call(function: Any, arguments: list[Any]) -> tuple[bool, Any]:
    try:
        return True, function(*copy.deepcopy(arguments))
    except BaseException as error:  # noqa: BLE001
        return False, type(error).__name__


def _expected_outputs(spec: dict[str, Any]) -> list[tuple[bool, Any]]:
    """The ground truth's outputs on every input, computed before the code under test loads."""
    reference: dict[str, Any] = {"__name__": "__reference__"}
    _run_source(spec["reference"], "<reference>", reference)
    function = reference[spec["entry_point"]]
    return [_call(function, arguments) for arguments in spec["inputs"]]


def _cases(spec: dict[str, Any], expected: list[Any], ns: dict[str, Any], out: Reporter) -> None:
    function = ns.get(spec["entry_point"])
    if not callable(function):
        out.test("inputs", False, f"no function {spec['entry_point']!r}")
        return
    for index, (arguments, (raised_ok, want)) in enumerate(
        zip(spec["inputs"], expected, strict=True)
    ):
        ran, got = _call(function, arguments)
        ok = ran == raised_ok and (_same(got, want, spec["atol"]) if ran else got == want)
        message = "" if ok else f"input {index}: got {got!r:.120} expected {want!r:.120}"
        out.test(f"input {index}", ok, message)


def confine(settings: dict[str, int]) -> None:
    """Set the run's limits on this process (soft = hard), then become the run's user."""
    limits = {
        resource.RLIMIT_CPU: (settings["cpu_seconds"], settings["cpu_seconds"] + 1),
        resource.RLIMIT_AS: (settings["memory_bytes"],) * 2,
        resource.RLIMIT_FSIZE: (settings["file_size_bytes"],) * 2,
        resource.RLIMIT_NPROC: (settings["processes"],) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    for kind, (soft, hard) in limits.items():
        resource.setrlimit(kind, (soft, hard))
    if settings["uid"] >= 0:
        os.setgroups([])
        os.setgid(settings["uid"])
        os.setuid(settings["uid"])


def main(settings: dict[str, int], fd: int) -> None:
    """Read the job, confine this process, run the set-up and tests, report (module docstring)."""
    job = json.loads(sys.stdin.buffer.read())
    out = Reporter(fd, job["nonce"])
    try:
        confine(settings)
    except (OSError, ValueError, OverflowError) as error:  # the sandbox's failure, not the code's
        out.event("confine_error", message=_describe(error))
        return
    out.event("start", planned=job["planned"])
    cases = job.get("cases")
    expected = _expected_outputs(cases) if cases else []
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for name, source in job["setup"]:
        try:
            _run_source(source, name, namespace)
        except BaseException as error:  # noqa: BLE001
            trace = traceback.format_exception_only(type(error), error)[-1].strip()
            missing = getattr(error, "name", None) if isinstance(error, ImportError) else None
            out.event("setup_error", stage=name, message=trace[:MESSAGE_CHARS], module=missing)
            return
    namespace.update(job.get("bind", {}))
    namespace.update({k: namespace[v] for k, v in job.get("alias", {}).items() if v in namespace})
    _source_units(job.get("units", []), namespace, out)
    if job.get("unittest"):
        _unittest(job["unittest"], namespace, out)
    if cases:
        _cases(cases, expected, namespace, out)
    out.event("done", passed=out.passed, total=out.total)


if __name__ == "__main__":
    main(json.loads(sys.argv[-2]), int(sys.argv[-1]))
