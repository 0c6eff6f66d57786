"""Jobs, schedules, the file sensor and the release gate decide what runs, when, and what not.

A sensor that fires twice for one file rebuilds curation twice and floods the run history; one
that misses a changed file ships stale data; a schedule or sensor that re-reads every lane makes
each new file cost the whole corpus. And a release cut while a blocking check upstream is red
would publish data that a check already called bad: the gate must refuse it, naming the checks.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationPlanned,
)
from dagster._core.events import DagsterEvent, DagsterEventType

from born_assets.defs.assets.lanes import lane_key
from born_assets.defs.assets.release import RELEASE_KEY, RELEASE_VERSIONS, TRANSPARENCY_KEY
from born_assets.defs.automation import (
    CURATION_JOB,
    FILES_SENSOR,
    RELEASE_JOB,
    SOURCES_TAG,
    WAREHOUSE_JOB,
    Automation,
    build_automation,
    run_selection,
    watched_sources,
)
from born_assets.defs.location import build_definitions
from born_assets.defs.release_gate import ReleaseGate, check_problem
from born_assets.defs.resources import WarehouseResource
from born_assets.defs.runner import failure_messages
from born_assets.ingest.watch import FileState, Watch, decode, encode, run_key, scan
from born_assets.layout import DataDir
from born_assets.specs.project import Project
from born_assets_tests.graph import nodes

LANE = "humaneval-reference"
LANE_FILE = "lanes/humaneval-reference/part-000.jsonl"
SCHEDULED_LANE = "mbpp-plus-reference"
AN_HOUR_AGO = time.time() - 3600


def age(data_dir: Path, seconds: float = 3600) -> None:
    """Make every input file look written `seconds` ago: settled, as the sensor wants it."""
    stamp = time.time() - seconds
    for folder in ("lanes", "traces"):
        for path in (data_dir / folder).rglob("*"):
            if path.is_file():
                os.utime(path, (stamp, stamp))


def automation(data_dir: Path) -> tuple[Automation, dg.Definitions]:
    project = Project.load(DataDir.at(data_dir))
    defs = build_definitions(project)
    return build_automation(project, list(defs.assets or [])), defs  # type: ignore[arg-type]


def resources(data_dir: Path) -> dict[str, object]:
    return {"warehouse": WarehouseResource(data_dir=str(data_dir))}


def tick(
    data_dir: Path, cursor: str | None = None, instance: dg.DagsterInstance | None = None
) -> dg.SensorResult:
    (sensor,) = automation(data_dir)[0].sensors
    context = dg.build_sensor_context(
        cursor=cursor, resources=resources(data_dir), instance=instance
    )
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def names(asset_keys: object) -> set[str]:
    assert isinstance(asset_keys, list | set | frozenset)
    return {k.to_user_string() for k in asset_keys}


def sources(defs: dg.Definitions) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).group_name in {"lanes", "imports"}
    }


def after_ingest(defs: dg.Definitions) -> set[str]:
    """Every asset downstream of a lane or import, but not the release: curation, governance."""
    graph = defs.resolve_asset_graph()
    roots = {dg.AssetKey.from_user_string(s) for s in sources(defs)}
    return {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).group_name != "release" and graph.get_ancestor_asset_keys(k) & roots
    }


def all_but_the_release(defs: dg.Definitions) -> set[str]:
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    return {k.to_user_string() for k in keys if graph.get(k).group_name != "release"}


def pretend_built(data_dir: Path) -> None:
    """Give every source a warehouse folder, as a previous run would have."""
    warehouse = WarehouseResource(data_dir=str(data_dir))
    for source in watched_sources(Project.load(DataDir.at(data_dir))):
        warehouse.asset_dir(source.key).mkdir(parents=True, exist_ok=True)


# --- ring 1: the sensor's memory of files (born_assets.ingest.watch) ---------------------------


def scan_lane(
    data_dir: Path, seen: dict[str, dict[str, FileState]], now: float
) -> tuple[dict[str, dict[str, FileState]], list[str]]:
    watch = Watch(f"lanes/{LANE}", f"lanes/{LANE}", "*.jsonl")
    found = scan(DataDir.at(data_dir), [watch], seen, now)
    return found.seen, found.changes.get(watch.name, [])


def test_a_new_file_is_a_change_and_the_same_file_seen_again_is_not(data_dir: Path) -> None:
    age(data_dir)
    seen, changes = scan_lane(data_dir, {}, time.time())
    assert [line.split()[0] for line in changes] == [
        "lanes/humaneval-reference/part-000.jsonl",
        "lanes/humaneval-reference/part-001.jsonl",
    ]
    size = (data_dir / LANE_FILE).stat().st_size
    assert changes[0].split()[1] == str(size)
    assert scan_lane(data_dir, seen, time.time()) == (seen, [])


def test_new_content_of_the_same_size_is_a_change_and_a_touch_is_not(data_dir: Path) -> None:
    age(data_dir)
    seen, _ = scan_lane(data_dir, {}, time.time())
    path = data_dir / LANE_FILE
    os.utime(path, (AN_HOUR_AGO + 60, AN_HOUR_AGO + 60))
    touched, changes = scan_lane(data_dir, seen, time.time())
    assert changes == []
    assert touched != seen  # the new mtime is remembered, so the file is not hashed again
    text = path.read_bytes()
    path.write_bytes(text.replace(b"def ", b"def_", 1))
    os.utime(path, (AN_HOUR_AGO + 120, AN_HOUR_AGO + 120))
    _, changes = scan_lane(data_dir, touched, time.time())
    assert [line.split()[:2] for line in changes] == [[LANE_FILE, str(len(text))]]


def test_a_file_still_being_written_waits_for_a_later_tick(data_dir: Path) -> None:
    age(data_dir)
    seen, _ = scan_lane(data_dir, {}, time.time())
    with (data_dir / LANE_FILE).open("ab") as handle:
        handle.write(b'{"task_id": "HumanEval/0", "prompt": "half a li')
    now = time.time()
    waiting, changes = scan_lane(data_dir, seen, now)
    assert (waiting, changes) == (seen, [])
    _, changes = scan_lane(data_dir, waiting, now + 60)
    assert [line.split()[0] for line in changes] == [LANE_FILE]


def test_a_removed_file_is_a_change_of_its_source(data_dir: Path) -> None:
    age(data_dir)
    seen, _ = scan_lane(data_dir, {}, time.time())
    (data_dir / LANE_FILE).unlink()
    _, changes = scan_lane(data_dir, seen, time.time())
    assert changes == [f"{LANE_FILE} removed"]


def test_the_run_key_is_the_file_name_size_and_hash_and_the_cursor_round_trips(
    data_dir: Path,
) -> None:
    age(data_dir)
    seen, changes = scan_lane(data_dir, {}, time.time())
    key = run_key({f"lanes/{LANE}": changes})
    assert key == run_key({f"lanes/{LANE}": list(reversed(changes))})
    renamed = [line.replace("part-000", "part-009") for line in changes]
    assert run_key({f"lanes/{LANE}": renamed}) != key
    resized = [changes[0].replace(changes[0].split()[1], "1"), *changes[1:]]
    assert run_key({f"lanes/{LANE}": resized}) != key
    assert decode(encode(seen)) == seen
    assert decode(None) == {}


# --- the sensor, as the daemon evaluates it ---------------------------------------------------


def test_the_first_tick_requests_every_source_and_curation_but_not_the_release(
    data_dir: Path,
) -> None:
    age(data_dir)
    result = tick(data_dir)
    (request,) = result.run_requests or []
    defs = build_definitions(Project.load(DataDir.at(data_dir)))
    assert names(request.asset_selection) == sources(defs) | after_ingest(defs)
    assert RELEASE_KEY not in (request.asset_selection or [])
    assert request.run_key and request.run_key.startswith("files-")
    assert request.tags[SOURCES_TAG].split(", ") == sorted(sources(defs))


def test_the_same_files_never_trigger_twice_and_changed_content_triggers_again(
    data_dir: Path,
) -> None:
    age(data_dir)
    pretend_built(data_dir)
    first = tick(data_dir)
    (request,) = first.run_requests or []
    again = tick(data_dir, cursor=first.cursor)
    assert again.run_requests in (None, [])
    assert again.skip_reason is not None
    assert again.cursor == first.cursor
    (forgotten,) = tick(data_dir).run_requests or []  # the cursor was lost: same key, no new run
    assert forgotten.run_key == request.run_key

    with (data_dir / LANE_FILE).open("ab") as handle:
        handle.write(b"\n")
    age(data_dir)
    (changed,) = tick(data_dir, cursor=first.cursor).run_requests or []
    assert changed.run_key != request.run_key
    defs = build_definitions(Project.load(DataDir.at(data_dir)))
    assert names(changed.asset_selection) == {f"lanes/{LANE}"} | after_ingest(defs)


def test_a_sensor_run_builds_the_changed_lane_and_curation_and_reads_no_other_lane(
    data_dir: Path,
) -> None:
    age(data_dir)
    defs = build_definitions(Project.load(DataDir.at(data_dir)))
    job = defs.resolve_job_def(WAREHOUSE_JOB)
    with dg.DagsterInstance.ephemeral() as instance:
        first = tick(data_dir, instance=instance)
        (request,) = first.run_requests or []
        built = job.execute_in_process(instance=instance, asset_selection=request.asset_selection)
        assert built.success
        with (data_dir / LANE_FILE).open("ab") as handle:
            handle.write(b"not json\n")
        age(data_dir)
        (request,) = tick(data_dir, cursor=first.cursor, instance=instance).run_requests or []
        result = job.execute_in_process(instance=instance, asset_selection=request.asset_selection)
    assert result.success
    materialized = {
        e.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }
    assert materialized == {f"lanes/{LANE}"} | after_ingest(defs)
    checked = {e.asset_key.to_user_string() for e in result.get_asset_check_evaluations()}
    assert checked <= materialized
    assert all(e.passed for e in result.get_asset_check_evaluations())


# --- schedules ---------------------------------------------------------------------------------


def schedule_on(data_dir: Path, lane: str, cron: str) -> None:
    path = data_dir / "manifests" / f"{lane}.yaml"
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.startswith("schedule:")
    ]
    path.write_text("\n".join([*kept, f'schedule: "{cron}"']) + "\n", encoding="utf-8")  # one key


def test_each_lane_with_a_cron_gets_its_own_schedule_in_utc(data_dir: Path) -> None:
    schedule_on(data_dir, LANE, "30 4 * * 1")
    by_name = {s.name: s for s in automation(data_dir)[0].schedules}
    assert set(by_name) == {
        "build_lane_mbpp_plus_reference_schedule",
        "build_lane_humaneval_reference_schedule",
    }
    assert by_name["build_lane_humaneval_reference_schedule"].cron_schedule == "30 4 * * 1"
    assert by_name["build_lane_mbpp_plus_reference_schedule"].cron_schedule == "0 3 * * *"
    assert {s.execution_timezone for s in by_name.values()} == {"UTC"}
    assert {s.job_name for s in by_name.values()} == {WAREHOUSE_JOB}


def evaluate_schedule(data_dir: Path) -> dg.RunRequest:
    (schedule,) = automation(data_dir)[0].schedules
    context = dg.build_schedule_context(
        resources=resources(data_dir),
        scheduled_execution_time=datetime(2026, 11, 23, 3, tzinfo=UTC),
    )
    request = schedule(context)
    assert isinstance(request, dg.RunRequest)
    return request


def test_a_lane_schedule_builds_the_lane_and_what_depends_on_it(data_dir: Path) -> None:
    pretend_built(data_dir)
    request = evaluate_schedule(data_dir)
    defs = build_definitions(Project.load(DataDir.at(data_dir)))
    assert names(request.asset_selection) == {f"lanes/{SCHEDULED_LANE}"} | after_ingest(defs)
    assert request.tags[SOURCES_TAG] == f"lanes/{SCHEDULED_LANE}"


def test_a_schedule_brings_along_sources_that_were_never_built(data_dir: Path) -> None:
    request = evaluate_schedule(data_dir)
    defs = build_definitions(Project.load(DataDir.at(data_dir)))
    assert names(request.asset_selection) == sources(defs) | after_ingest(defs)


def test_a_cron_dagster_cannot_read_drops_only_that_schedule(data_dir: Path) -> None:
    schedule_on(data_dir, LANE, "99 * * * *")
    built, defs = automation(data_dir)
    assert [s.name for s in built.schedules] == ["build_lane_mbpp_plus_reference_schedule"]
    assert f"lanes/{LANE}" in sources(defs)


# --- jobs --------------------------------------------------------------------------------------


def selected(job: object, defs: dg.Definitions) -> set[str]:
    selection = job.selection  # type: ignore[attr-defined]
    assert isinstance(selection, dg.AssetSelection)
    return names(set(selection.resolve(list(defs.assets or []))))  # type: ignore[arg-type]


def test_three_jobs_named_for_what_people_do_select_what_they_say(data_dir: Path) -> None:
    """A short jobs list: a source is built by `build_warehouse` on a part of its assets."""
    built, defs = automation(data_dir)
    jobs = {job.name: job for job in built.jobs}
    assert set(jobs) == {WAREHOUSE_JOB, CURATION_JOB, RELEASE_JOB}
    assert selected(jobs[CURATION_JOB], defs) == after_ingest(defs)
    assert selected(jobs[WAREHOUSE_JOB], defs) == all_but_the_release(defs)
    release = {"release", "transparency_table", "similarity_index"}
    assert selected(jobs[RELEASE_JOB], defs) == release


def test_lane_ids_that_differ_only_by_dash_and_underscore_get_two_schedules(
    data_dir: Path,
) -> None:
    original = (data_dir / "manifests" / f"{LANE}.yaml").read_text(encoding="utf-8")
    twin = original.replace(f"lane_id: {LANE}", "lane_id: humaneval_reference")
    # Its own copy of the files: two specs picking the same file are refused (`Project.load`).
    twin = twin.replace(f"path: lanes/{LANE}", "path: lanes/humaneval_reference")
    shutil.copytree(data_dir / "lanes" / LANE, data_dir / "lanes" / "humaneval_reference")
    (data_dir / "manifests" / "humaneval_reference.yaml").write_text(twin, encoding="utf-8")
    for lane in (LANE, "humaneval_reference"):
        schedule_on(data_dir, lane, "30 4 * * 1")
    lanes = watched_sources(Project.load(DataDir.at(data_dir)))
    names_ = [s.schedule_name for s in lanes if s.schedule_name is not None]
    assert len(names_) == len(set(names_)) == len([s for s in lanes if s.key.path[0] == "lanes"])
    assert "build_lane_humaneval_reference_schedule" in names_
    assert len({s.name for s in automation(data_dir)[0].schedules}) == 3


def test_the_code_location_serves_the_jobs_schedules_and_sensor(data_dir: Path) -> None:
    defs = build_definitions(Project.load(DataDir.at(data_dir)))
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def(RELEASE_JOB).partitions_def == RELEASE_VERSIONS
    assert defs.resolve_sensor_def(FILES_SENSOR).job_name == WAREHOUSE_JOB
    schedule = defs.resolve_schedule_def("build_lane_mbpp_plus_reference_schedule")
    assert schedule.cron_schedule == "0 3 * * *"


# --- the release gate --------------------------------------------------------------------------


def test_a_check_holds_the_release_unless_its_latest_evaluation_passed() -> None:
    key = dg.AssetCheckKey(lane_key(LANE), "lines_reconcile")
    with dg.DagsterInstance.ephemeral() as instance:
        assert check_problem(instance, key) == f"lanes/{LANE}:lines_reconcile was never evaluated"
        for passed, severity, problem in [
            (False, dg.AssetCheckSeverity.ERROR, "failed in a report outside any run"),
            (False, dg.AssetCheckSeverity.WARN, None),
            (True, dg.AssetCheckSeverity.ERROR, None),
        ]:
            instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(
                    asset_key=key.asset_key, check_name=key.name, passed=passed, severity=severity
                )
            )
            found = check_problem(instance, key)
            assert found == (problem and f"lanes/{LANE}:lines_reconcile {problem}")


def test_a_release_held_by_another_run_in_progress_says_to_wait_for_it() -> None:
    """Two builds at once: the checks of the other run's build have no result yet."""
    key = dg.AssetCheckKey(lane_key(LANE), "lines_reconcile")
    gate = ReleaseGate(checks=[key.to_user_string()])
    with dg.DagsterInstance.ephemeral() as instance:
        other = instance.add_run(
            dg.DagsterRun(job_name="build_warehouse", status=dg.DagsterRunStatus.STARTED)
        )
        planned = DagsterEvent(
            event_type_value=DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED.value,
            job_name="build_warehouse",
            event_specific_data=AssetCheckEvaluationPlanned(
                asset_key=key.asset_key, check_name=key.name
            ),
        )
        instance.report_dagster_event(planned, run_id=other.run_id)
        assert gate.other_runs_building(instance, "this-run") == [other.run_id[:8]]
        assert gate.other_runs_building(instance, other.run_id) == []  # its own run
        instance.report_run_failed(other)
        assert gate.other_runs_building(instance, "this-run") == []  # done: no wait helps


def drop_last_row(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 1), path)


def test_cut_release_refuses_while_a_blocking_check_upstream_failed_in_its_latest_run(
    data_dir: Path,
) -> None:
    defs = build_definitions(Project.load(DataDir.at(data_dir)))
    warehouse = WarehouseResource(data_dir=str(data_dir))
    name = RELEASE_VERSIONS.name
    assert name is not None
    with dg.DagsterInstance.ephemeral() as instance:
        assert defs.resolve_job_def(WAREHOUSE_JOB).execute_in_process(instance=instance).success
        drop_last_row(warehouse.table(lane_key(LANE), "rows.parquet"))
        checks_only = dg.materialize(
            nodes(defs),
            selection=dg.AssetSelection.checks_for_assets(lane_key(LANE)),
            resources=defs.resources,
            instance=instance,
            raise_on_error=False,
        )
        assert [
            e.check_name for e in checks_only.get_asset_check_evaluations() if not e.passed
        ] == ["lines_reconcile"]
        instance.add_dynamic_partitions(name, ["v1"])
        cut = defs.resolve_job_def(RELEASE_JOB)
        refused = cut.execute_in_process(
            instance=instance, partition_key="v1", raise_on_error=False
        )
        assert not refused.success
        (message,) = [m for m in failure_messages(refused) if m.startswith("release:")]
        assert f"lanes/{LANE}:lines_reconcile failed in run {checks_only.run_id[:8]}" in message
        assert not (data_dir / "releases" / "v1").exists()
        assert TRANSPARENCY_KEY not in {
            e.asset_key for e in refused.get_asset_materialization_events()
        }

        job = defs.resolve_job_def(WAREHOUSE_JOB)
        lane = run_selection([dg.AssetKey(["lanes", LANE])], list(defs.assets or []))  # type: ignore[arg-type]
        assert job.execute_in_process(instance=instance, asset_selection=lane).success
        released = cut.execute_in_process(instance=instance, partition_key="v1")
    assert released.success
    assert (data_dir / "releases" / "v1" / "release.json").exists()


def test_a_run_of_the_whole_graph_and_a_release_is_not_held_by_checks_still_to_run(
    data_dir: Path,
) -> None:
    """`born release`: row_fates and its checks may run after the release in the same run."""
    defs = build_definitions(Project.load(DataDir.at(data_dir)))
    name = RELEASE_VERSIONS.name
    assert name is not None
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(name, ["v1"])
        result = dg.materialize(
            nodes(defs),
            resources=defs.resources,
            instance=instance,
            partition_key="v1",
            raise_on_error=False,
        )
    assert result.success, failure_messages(result)
    assert (data_dir / "releases" / "v1" / "release.json").exists()


def test_a_release_on_a_fresh_instance_is_refused_and_says_what_to_run(data_dir: Path) -> None:
    defs = build_definitions(Project.load(DataDir.at(data_dir)))
    name = RELEASE_VERSIONS.name
    assert name is not None
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(name, ["v1"])
        result = defs.resolve_job_def(RELEASE_JOB).execute_in_process(
            instance=instance, partition_key="v1", raise_on_error=False
        )
    (message,) = [m for m in failure_messages(result) if m.startswith("release:")]
    assert "was never evaluated" in message
    assert "build_warehouse" in message
