"""Calibration on real benchmark files: their own reference solutions must pass, planted ones fail.

For each family, every record of a benchmark JSONL file is run twice through the same harness
and sandbox as the `executed` stage: with the benchmark's reference solution, and with a planted
wrong one (the reference, its entry point wrapped so every return value is slightly changed; for
DS-1000 the `result` changed). A harness that passes the references and fails the planted code
tells right from wrong; each reference that does not pass is listed with its reason.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from born_assets.execution.harnesses import program
from born_assets.execution.rows import Runner, measure, plan_row, slot_queue
from born_assets.specs.execution_policy import RequireTests
from born_assets.specs.task_tests import Harness, LoadedTests

PERTURB = """

def _born_perturb(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, (list, tuple)):
        return type(value)([*value, None]) if isinstance(value, list) else (*value, None)
    return None
"""


def _wrap(code: str, entry: str) -> str:
    """`code` with `entry` returning a changed value (a plausible wrong solution)."""
    return (
        f"{code}{PERTURB}\n_born_reference = {entry}\n\n"
        f"def {entry}(*args, **kwargs):\n"
        f"    return _born_perturb(_born_reference(*args, **kwargs))\n"
    )


def _mbpp_entry(record: dict[str, Any]) -> str:
    match = re.search(r"assert\s+(?:not\s+)?\(?\s*(?:set\()?\s*(\w+)\(", record["test_list"][0])
    return match.group(1) if match else "solution"


@dataclass(frozen=True)
class Family:
    """A benchmark file's harness, task id field and reference and planted solutions."""

    harness: Harness
    id_of: Callable[[dict[str, Any]], str]
    reference: Callable[[dict[str, Any]], str]
    planted: Callable[[dict[str, Any]], str]


def _task_id(record: dict[str, Any]) -> str:
    return str(record["task_id"])


def _canonical(record: dict[str, Any]) -> str:
    return str(record["canonical_solution"])


def _planted_completion(record: dict[str, Any]) -> str:
    """HumanEval-style: the prompt completed by the reference, its return values changed."""
    entry = record["entry_point"]
    return _wrap(program(record["canonical_solution"], record["prompt"], entry), entry)


def _ds1000_id(record: dict[str, Any]) -> str:
    return f"DS1000/{record['metadata']['problem_id']}"


FAMILIES: dict[str, Family] = {
    "humaneval": Family(
        Harness.HUMANEVAL,
        lambda r: r["task_id"],
        lambda r: r["canonical_solution"],
        lambda r: _wrap(
            program(r["canonical_solution"], r["prompt"], r["entry_point"]), r["entry_point"]
        ),
    ),  # fmt: skip
    "humaneval_plus": Family(
        Harness.EVALPLUS,
        lambda r: r["task_id"],
        lambda r: r["canonical_solution"],
        lambda r: _wrap(
            program(r["canonical_solution"], r["prompt"], r["entry_point"]), r["entry_point"]
        ),
    ),  # fmt: skip
    "mbpp": Family(
        Harness.MBPP,
        lambda r: str(r["task_id"]),
        lambda r: r["code"].replace("\r\n", "\n"),
        lambda r: _wrap(r["code"].replace("\r\n", "\n"), _mbpp_entry(r)),
    ),
    "mbpp_plus": Family(
        Harness.EVALPLUS,
        lambda r: r["task_id"],
        lambda r: r["canonical_solution"],
        lambda r: _wrap(r["canonical_solution"], r["entry_point"]),
    ),
    "ds1000": Family(
        Harness.DS1000,
        _ds1000_id,
        lambda r: r["reference_code"],
        lambda r: r["reference_code"] + PERTURB + "\nresult = _born_perturb(result)\n",
    ),
    "bigcodebench": Family(
        Harness.BIGCODEBENCH,
        lambda r: r["task_id"],
        lambda r: r["code_prompt"] + r["canonical_solution"],
        lambda r: _wrap(r["code_prompt"] + r["canonical_solution"], r["entry_point"]),
    ),
    "swebench_lite": Family(
        Harness.SWEBENCH, lambda r: r["instance_id"], lambda r: r["patch"], lambda r: ""
    ),
}


@dataclass
class FamilyReport:
    """Reference outcomes by status, planted outcomes, and why references did not pass."""

    family: str
    tasks: int = 0
    reference: Counter[str] = field(default_factory=Counter)
    planted: Counter[str] = field(default_factory=Counter)
    not_passing: list[tuple[str, str, str]] = field(default_factory=list)  # id, status, detail

    @property
    def pass_rate(self) -> float | None:
        """Passed references over those that ran (not_executable excluded)."""
        ran = sum(n for s, n in self.reference.items() if s != "not_executable")
        return self.reference["passed"] / ran if ran else None

    @property
    def planted_caught(self) -> int:
        """Planted solutions that did not pass (and ran)."""
        return sum(n for s, n in self.planted.items() if s not in ("passed", "not_executable"))


def _closure(code: str) -> str:
    return f"## Plan\n_\n\n## Code\n```python\n{code}\n```\n\n## Checks\n_\n\n## Result\n_\n"


def _records(path: Path, limit: int | None) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if limit is not None and number >= limit:
                return
            record = json.loads(line)
            if isinstance(record.get("metadata"), str):
                record["metadata"] = ast.literal_eval(record["metadata"])
            yield record


def calibrate(
    name: str, path: Path, runner: Runner, workers: int, limit: int | None = None
) -> FamilyReport:
    """Run the references and the planted solutions of one benchmark file."""
    family = FAMILIES[name]
    records = list(_records(path, limit))
    tests = LoadedTests(family.harness, path, {family.id_of(r): r for r in records}, "")
    report = FamilyReport(name, len(records))
    jobs = []
    for record in records:
        for kind, solution in (("reference", family.reference), ("planted", family.planted)):
            row = {
                "origin_kind": "lane",
                "origin_id": f"calibration-{name}",
                "source_benchmark": name,
                "source_id": family.id_of(record),
                "response": _closure(solution(record)),
            }
            jobs.append((kind, row["source_id"], plan_row(row, tests, RequireTests.RECORD)))
    slots = slot_queue(workers)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda plan: measure(plan, runner, slots), [p for _, _, p in jobs])
        for (kind, task_id, _), result in zip(jobs, results, strict=True):
            status = result["execution_status"]
            getattr(report, kind)[status] += 1
            if kind == "reference" and status != "passed":
                reason = f"{result['execution_reason']}: {result['execution_detail'] or ''}"
                report.not_passing.append((task_id, status, reason[:200]))
    return report


def format_report(reports: list[FamilyReport]) -> str:
    """The calibration table, then each reference that did not pass."""
    lines = [
        "| family | tasks | reference passed | failed | error | timeout | not_executable "
        "| pass rate | planted caught |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reports:
        rate = f"{r.pass_rate:.1%}" if r.pass_rate is not None else "-"
        ran_planted = sum(n for s, n in r.planted.items() if s != "not_executable")
        lines.append(
            f"| {r.family} | {r.tasks} | {r.reference['passed']} | {r.reference['failed']} "
            f"| {r.reference['error']} | {r.reference['timeout']} "
            f"| {r.reference['not_executable']} | {rate} | {r.planted_caught}/{ran_planted} |"
        )
    for r in reports:
        for task_id, status, detail in r.not_passing:
            lines.append(f"- {r.family} {task_id}: {status} ({' '.join(detail.split())})")
    return "\n".join(lines)
