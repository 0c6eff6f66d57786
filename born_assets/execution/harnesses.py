"""One harness per family of test formats: a row's code and its task's test record become a job.

A job is what `driver.py` runs: set-up sources (the program, then the test module), then tests:
source units counted one by one, a unittest class, or input cases compared with the ground
truth's outputs. Harnesses are pure: they read the record and the code, and run nothing.

- humaneval: `prompt` + completion (or the code itself when it defines `entry_point`), the
  `test` module, then each statement of `check(candidate)` holding an assert is one test.
- evalplus (HumanEval+, MBPP+): the ground truth (`prompt` + `canonical_solution` when that is a
  body) gives the expected output of every `base_input` and `plus_input`; each input is a test,
  compared with `atol` for floats; MBPP+'s `assertion` asserts are tests too.
- mbpp: `test_setup_code`, the code, then each `test_list` assert.
- bigcodebench: the code (or `code_prompt` + completion), the `test` module, then every test of
  its `TestCases` unittest class.
- ds1000: `code_context`, then `test_execution(code)` (and `test_string(code)` when defined).
- swebench: never runs here: a patch needs the repository at `base_commit` and its containers.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from born_assets.schemas.execution import ExecutionReason
from born_assets.specs.task_tests import Harness


@dataclass(frozen=True)
class Job:
    """What the driver runs for one row, and how it is described."""

    setup: list[tuple[str, str]]  # (file name, source), run in order in one namespace
    planned: int  # tests the harness means to run
    command: str  # what runs, in words
    units: list[dict[str, Any]] = field(default_factory=list)
    unittest: str | None = None
    cases: dict[str, Any] | None = None
    bind: dict[str, Any] = field(default_factory=dict)  # names set before the tests run
    alias: dict[str, str] = field(default_factory=dict)  # name -> existing name

    def payload(self, nonce: str) -> dict[str, Any]:
        """The job as the driver reads it."""
        return {
            "nonce": nonce,
            "planned": self.planned,
            "setup": self.setup,
            "units": self.units,
            "unittest": self.unittest,
            "cases": self.cases,
            "bind": self.bind,
            "alias": self.alias,
        }

    def sources(self) -> list[str]:
        """Every source the job runs (for the modules it imports)."""
        return [s for _, s in self.setup] + [u["source"] for u in self.units]


@dataclass(frozen=True)
class NotRunnable:
    """Why a row cannot be run by its harness."""

    reason: ExecutionReason
    detail: str


def defines(code: str, name: str) -> bool:
    """Whether `code` parses and binds `name` at top level (a def, class, import or assignment)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return True
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if any((a.asname or a.name.split(".")[0]) == name for a in node.names):
                return True
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return True
    return False


def program(code: str, stub: str, entry_point: str) -> str:
    """The code when it defines `entry_point`, else `stub` + code (a completion of the stub)."""
    if defines(code, entry_point):
        return code
    return stub + code


def assert_units(source: str, name: str) -> list[dict[str, Any]]:
    """Each top-level statement of `source` as a unit; those holding an assert are counted."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [{"name": name, "source": source, "counted": True}]
    return _statement_units(source, tree.body, name)


def _statement_units(source: str, body: list[ast.stmt], name: str) -> list[dict[str, Any]]:
    units = []
    for statement in body:
        text = ast.get_source_segment(source, statement, padded=False) or ast.unparse(statement)
        counted = any(isinstance(n, ast.Assert) for n in ast.walk(statement))
        units.append(
            {"name": f"{name} line {statement.lineno}", "source": text, "counted": counted}
        )
    return units


def _check_units(test: str) -> list[dict[str, Any]] | None:
    """The statements of `def check(candidate)` in a HumanEval test module, as units."""
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            lines = test.splitlines(keepends=True)
            body = "".join(lines[node.body[0].lineno - 1 : node.end_lineno])
            dedented = textwrap.dedent(body)
            try:
                inner = ast.parse(dedented)
            except SyntaxError:
                return None
            return _statement_units(dedented, inner.body, "check")
    return None


def _humaneval(code: str, record: dict[str, Any]) -> Job | NotRunnable:
    entry = record["entry_point"]
    units = _check_units(record["test"])
    if units is None:
        return Job(
            setup=[
                ("<solution>", program(code, record["prompt"], entry)),
                ("<tests>", record["test"]),
            ],
            planned=1,
            command=f"check({entry})",
            units=[{"name": f"check({entry})", "source": f"check({entry})", "counted": True}],
        )
    return Job(
        setup=[("<solution>", program(code, record["prompt"], entry)), ("<tests>", record["test"])],
        planned=sum(u["counted"] for u in units),
        command=f"check({entry}): each assert of the task's test",
        units=units,
        alias={"candidate": entry},
    )


def _evalplus(code: str, record: dict[str, Any]) -> Job | NotRunnable:
    entry = record["entry_point"]
    reference = program(record["canonical_solution"], record.get("prompt", ""), entry)
    inputs = record["base_input"] + record.get("plus_input", [])
    units = assert_units(record.get("assertion", ""), "assertion")
    counted = sum(u["counted"] for u in units)
    return Job(
        # EvalPlus's MBPP+ assertions call math.isclose without importing math.
        setup=[("<solution>", program(code, record.get("prompt", ""), entry))]
        + ([("<assertion imports>", "import math\n")] if counted else []),
        planned=len(inputs) + counted,
        command=(
            f"{entry}(*input) against the ground truth on {len(inputs)} inputs"
            + (f" + {counted} asserts" if counted else "")
        ),
        units=units,
        cases={
            "entry_point": entry,
            "reference": reference,
            "inputs": inputs,
            "atol": float(record.get("atol") or 0),
        },
    )


def _mbpp(code: str, record: dict[str, Any]) -> Job | NotRunnable:
    tests = [t for t in record["test_list"] if isinstance(t, str)]
    units = [{"name": f"test_list[{i}]", "source": t, "counted": True} for i, t in enumerate(tests)]
    setup = [("<setup>", record.get("test_setup_code", "")), ("<solution>", code)]
    return Job(setup=setup, planned=len(units), command="the task's test_list asserts", units=units)


def _bigcodebench(code: str, record: dict[str, Any]) -> Job | NotRunnable:
    entry = record["entry_point"]
    try:
        tree = ast.parse(record["test"])
    except SyntaxError as error:
        return NotRunnable(ExecutionReason.SETUP_FAILED, f"the task's test module: {error}")
    planned = sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name == "TestCases"
        for item in node.body
        if isinstance(item, ast.FunctionDef) and item.name.startswith("test")
    )
    return Job(
        setup=[
            ("<solution>", program(code, record["code_prompt"], entry)),
            ("<tests>", record["test"]),
        ],
        planned=planned,
        command=f"unittest TestCases ({planned} tests) against {entry}",
        unittest="TestCases",
    )


def _ds1000(code: str, record: dict[str, Any]) -> Job | NotRunnable:
    context = record["code_context"]
    calls = ["test_execution(code)"]
    if "def test_string(" in context:
        calls.append("test_string(code)")
    units = [{"name": call, "source": call, "counted": True} for call in calls]
    return Job(
        setup=[("<code_context>", context)],
        planned=len(units),
        command=" and ".join(calls) + " from the task's code_context",
        units=units,
        bind={"code": code},
    )


def _swebench(code: str, record: dict[str, Any]) -> Job | NotRunnable:
    return NotRunnable(
        ExecutionReason.NEEDS_REPOSITORY,
        f"a patch to {record['repo']}@{record['base_commit'][:12]}: its tests need that checkout "
        "and the instance's container image (see docs/scale-out.md)",
    )


HARNESSES: dict[Harness, Callable[[str, dict[str, Any]], Job | NotRunnable]] = {
    Harness.HUMANEVAL: _humaneval,
    Harness.EVALPLUS: _evalplus,
    Harness.MBPP: _mbpp,
    Harness.BIGCODEBENCH: _bigcodebench,
    Harness.DS1000: _ds1000,
    Harness.SWEBENCH: _swebench,
}


def build_job(harness: Harness, code: str, record: dict[str, Any]) -> Job | NotRunnable:
    """The job for `code` under `harness` and the task's test `record`."""
    return HARNESSES[harness](code, record)
