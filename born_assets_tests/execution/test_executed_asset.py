"""The `executed` stage in the real graph: results become lineage, and the policy acts on them.

A plausible wrong DS-1000 solution is planted next to reference rows. Under `require_tests:
pass` (hard) it leaves as `gated_out / execute / tests_failed` and every line still has one
fate; under `soft` it ships with a lower score and a closure that says it failed. The release
carries status and counts, the closure shows what ran, the transparency table gains pass rates,
`born trace` shows the run, and a rerun executes nothing it ran before.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from born_assets.defs.runner import materialize_release
from born_assets.layout import DataDir
from born_assets.release.trace import TracePaths, format_trace, trace
from born_assets.specs.project import Project
from born_assets_tests.graph import check_results, materialization_metadata, materialize_all

PLANTED = "result = df.copy()\n"  # plausible, and wrong: the task wants df transformed
LANE_ROWS = 3


def small_sample(data_dir: Path, severity: str) -> Path:
    """The sample lanes cut to a few rows each, no imports, one planted wrong DS-1000 row.

    The planted row answers a task no kept row answers (DS1000/5), so no dedup merges it.
    """
    for spec in (data_dir / "imports").glob("*.yaml"):
        spec.unlink()
    ds1000 = data_dir / "lanes" / "ds1000-reference" / "part-000.jsonl"
    task = json.loads(ds1000.read_text().splitlines()[5])
    for path in (data_dir / "lanes").rglob("*.jsonl"):
        if "bad-lines" not in path.name:
            path.write_text("".join(path.read_text().splitlines(keepends=True)[:LANE_ROWS]))
    planted = {**task, "response": PLANTED}
    (ds1000.parent / "part-001-planted.jsonl").write_text(json.dumps(planted) + "\n")
    policy = data_dir / "policy.yaml"
    text = policy.read_text().replace("    ds1000: record ", "    ds1000: pass   ")
    policy.write_text(text.replace("  severity: hard\n", f"  severity: {severity}\n"))
    return data_dir


def rows(sql: str, **params: object) -> list[tuple[object, ...]]:
    return duckdb.connect().execute(sql, params).fetchall()


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "execution-cache"
    monkeypatch.setenv("BORN_EXECUTION_CACHE", str(cache))
    return cache


def test_a_failing_row_is_gated_out_and_the_rest_carry_their_outcome(
    data_dir: Path, isolated_cache: Path
) -> None:
    data = DataDir(small_sample(data_dir, "hard"))
    result = materialize_release(data, "v1")
    assert result.success
    assert all(check_results(result).values()), check_results(result)
    executed = data.stage("executed") / "rows.parquet"
    ((status, reason, passed, total),) = rows(
        "SELECT execution_status, execution_reason, tests_passed, tests_total "
        "FROM read_parquet($p) x JOIN read_parquet($lanes) l USING (example_id) "
        "WHERE l.source_file LIKE '%planted%'",
        p=str(executed),
        lanes=str(data.root / "warehouse/lanes/ds1000-reference/rows.parquet"),
    )
    assert (status, reason, passed, total) == ("failed", "tests_failed", 0, 1)
    release = data.release("v1")
    (fate,) = rows(
        "SELECT fate, stage, reason FROM read_parquet($p) WHERE source_file LIKE '%planted%'",
        p=str(release.fates),
    )
    assert fate == ("gated_out", "execute", "tests_failed")
    shipped = rows(
        "SELECT source_id, execution_status, tests_passed, tests_total, execution_isolation, "
        "response FROM read_parquet($p) WHERE generation_lane = 'ds1000-reference' ORDER BY 1",
        p=str(release.shard_glob),
    )
    assert [r[:4] for r in shipped] == [(f"DS1000/{i}", "passed", 1, 1) for i in range(3)]
    assert all("Observed: passed, 1/1 tests passed" in str(r[5]) for r in shipped)
    assert all("test_execution(code)" in str(r[5]).split("## Checks")[1] for r in shipped)
    with (release.path / "transparency.csv").open() as handle:
        table = {r["id"]: r for r in csv.DictReader(handle)}
    lane = table["ds1000-reference"]
    assert (lane["rows_tested"], lane["rows_passing"], lane["pass_rate"]) == ("4", "3", "0.75")
    teacher = next(r for r in table.values() if r["kind"] == "teacher" and "xlang" in r["id"])
    assert teacher["pass_rate"] == "0.75"
    assert "executed rows ran in" in (release.path / "README.md").read_text()

    planted_id = rows(
        "SELECT example_id FROM read_parquet($p) WHERE source_file LIKE '%planted%'",
        p=str(release.fates),
    )[0][0]
    project = Project.load(data)
    paths = TracePaths(data, project.source_dirs(), project.spec_files())
    text = format_trace(str(planted_id), trace(duckdb.connect(), paths, str(planted_id)))
    assert "tests run:" in text and "execution_status: failed" in text

    again = materialize_all(data.root, "key:executed")
    assert materialization_metadata(again, "executed")["inputs_unchanged"] is True
    (data.root / "warehouse" / "executed" / "step.json").unlink()  # forget: run it again
    again = materialize_all(data.root, "key:executed")
    metadata = materialization_metadata(again, "executed")
    assert metadata["inputs_unchanged"] is False
    assert metadata["rows_run"] == 0
    assert metadata["rows_from_cache"] == sum(1 for _ in isolated_cache.rglob("*.json"))


def test_soft_policy_ships_the_failing_row_scored_down(
    data_dir: Path, isolated_cache: Path
) -> None:
    data = DataDir(small_sample(data_dir, "soft"))
    assert materialize_release(data, "v1").success
    ((status, score, response),) = rows(
        "SELECT execution_status, curation_score, response FROM read_parquet($p) "
        "WHERE source_file LIKE '%planted%'",
        p=str(data.release("v1").shard_glob),
    )
    assert status == "failed"
    assert score == pytest.approx(0.2)  # 0.4 (code only) x soft_failure_factor 0.5
    assert "Observed: failed, 0/1 tests passed" in str(response)
