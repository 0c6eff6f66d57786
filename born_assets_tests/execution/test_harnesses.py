"""The harnesses must tell right from wrong: references pass, planted wrong code fails.

Also the pure parts around them: a lane's tests are validated when its manifest loads (errors
name the file, the line and the field), the policy section refuses nonsense, the Code section is
what runs, and the observed outcome lands in the closure's Checks and Result sections.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from born_assets.execution.calibration import calibrate
from born_assets.execution.code import code_of
from born_assets.execution.environment import Environment
from born_assets.execution.harnesses import Job, build_job
from born_assets.execution.isolation import claimed_users
from born_assets.execution.rows import Runner, driver_source
from born_assets.execution.sandbox import Sandbox
from born_assets.layout import DataDir
from born_assets.specs.common import SpecError
from born_assets.specs.execution_policy import ExecutionLimits, IsolationChoice
from born_assets.specs.manifests import load_manifest
from born_assets.specs.policy import Policy, PolicyError
from born_assets.specs.task_tests import Harness
from born_assets.store.result_cache import ResultCache
from born_assets.text.closure import ABSENT_MARKER, append_observed, render_closure
from born_assets_tests.conftest import SAMPLE_DATA

LIMITS = ExecutionLimits(wall_seconds=30, cpu_seconds=30)


def lines(path: Path, count: int) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(next(handle)) for _ in range(count)]


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runner, int]]:
    cache = tmp_path_factory.mktemp("calibration-cache")
    with claimed_users(2) as users:
        sandbox = Sandbox.create(IsolationChoice.AUTO, LIMITS, SAMPLE_DATA, users)
        environment = Environment.current(sandbox.isolation, LIMITS)
        yield Runner(sandbox, environment, ResultCache(cache), driver_source()), 2


def test_references_pass_and_planted_wrong_solutions_fail(
    runner: tuple[Runner, int], tmp_path: Path
) -> None:
    """Three tasks per family, from the sample data's test records and reference lanes."""
    tasks, lanes = SAMPLE_DATA / "tasks", SAMPLE_DATA / "lanes"
    humaneval = [
        {**t, "canonical_solution": lane["response"]}
        for t, lane in zip(
            lines(tasks / "humaneval.tests.jsonl", 3),
            lines(lanes / "humaneval-reference/part-000.jsonl", 3),
            strict=True,
        )
    ]
    ds1000 = [
        {**t, "reference_code": lane["response"], "metadata": {"problem_id": i}}
        for i, (t, lane) in enumerate(
            zip(
                lines(tasks / "ds1000.tests.jsonl", 3),
                lines(lanes / "ds1000-reference/part-000.jsonl", 3),
                strict=True,
            )
        )
    ]
    files = {
        "humaneval": humaneval,
        "mbpp_plus": lines(tasks / "mbpp_plus.tests.jsonl", 3),
        "ds1000": ds1000,
    }
    for family, records in files.items():
        path = tmp_path / f"{family}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        report = calibrate(family, path, *runner)
        assert report.reference["passed"] == 3, (family, report.not_passing)
        assert report.planted_caught == 3, (family, report.planted)


def test_a_humaneval_check_counts_each_assert() -> None:
    record = {
        "prompt": "def inc(x):\n",
        "entry_point": "inc",
        "test": "def check(candidate):\n    a = 1\n    assert candidate(a) == 2\n"
        "    for x in range(3):\n        assert candidate(x) == x + 1\n",
    }
    job = build_job(Harness.HUMANEVAL, "    return x + 1\n", record)
    assert isinstance(job, Job)
    assert job.planned == 2
    assert job.setup[0][1] == "def inc(x):\n    return x + 1\n"  # a completion of the prompt
    assert [u["counted"] for u in job.units] == [False, True, True]
    whole = build_job(Harness.HUMANEVAL, "def inc(x):\n    return x + 1\n", record)
    assert isinstance(whole, Job) and whole.setup[0][1].startswith("def inc")


def test_only_the_code_section_runs() -> None:
    closure = render_closure(
        ["Add one."],
        ["```python\ndef inc(x):\n    return x + 1\n```", "```bash\nls\n```"],
        ["```python\nassert inc(1) == 2\n```"],
        ["Done."],
        False,
    ).text
    assert code_of(closure) == "def inc(x):\n    return x + 1\n"
    assert code_of(render_closure(["x"], [], [], ["y"], False).text) is None


def test_the_observed_outcome_fills_checks_and_result() -> None:
    closure = render_closure([], ["```python\nx = 1\n```"], [], ["It works."], False).text
    annotated = append_observed(closure, "Observed: ran check(f).", "Observed: passed.")
    checks = annotated.split("## Checks\n")[1].split("## Result")[0]
    assert checks.strip() == "Observed: ran check(f)."  # replaces the absent marker
    assert annotated.endswith("It works.\n\nObserved: passed.\n")
    assert ABSENT_MARKER in annotated.split("## Code")[0]  # the plan stays absent
    assert append_observed("not a closure", "a", "b") == "not a closure"


def test_a_test_record_missing_a_field_names_file_line_and_field(data_dir: Path) -> None:
    tests = data_dir / "tasks" / "humaneval.tests.jsonl"
    rows = tests.read_text().splitlines()
    broken = json.loads(rows[2])
    del broken["entry_point"]
    rows[2] = json.dumps(broken)
    tests.write_text("\n".join(rows) + "\n")
    loaded = load_manifest(data_dir / "manifests" / "humaneval-reference.yaml", DataDir(data_dir))
    assert isinstance(loaded, SpecError)
    assert loaded.field == "tests.file"
    assert "humaneval.tests.jsonl line 3: field 'entry_point' missing (humaneval)" in str(loaded)


def test_an_unknown_harness_is_a_spec_error(data_dir: Path) -> None:
    manifest = data_dir / "manifests" / "humaneval-reference.yaml"
    manifest.write_text(manifest.read_text().replace("harness: humaneval", "harness: junit"))
    loaded = load_manifest(manifest, DataDir(data_dir))
    assert isinstance(loaded, SpecError) and loaded.field == "tests.harness"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("require_tests: {humaneval: pass}", "execution.require_tests.default: required"),
        ("require_tests: {default: always}", "execution.require_tests.default"),
        ("fail_statuses: [passed]", "execution.fail_statuses"),
        ("limits: {wall_seconds: 0}", "execution.limits.wall_seconds: must be > 0"),
    ],
)
def test_the_execution_policy_refuses_nonsense(section: str, message: str) -> None:
    text = (SAMPLE_DATA / "policy.yaml").read_text().split("\nexecution:")[0]
    with pytest.raises(PolicyError, match=message.replace(".", r"\.")):
        Policy.from_yaml(f"{text}\nexecution:\n  {section}\n", source="policy.yaml")
