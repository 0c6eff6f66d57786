"""The Dagster UI is how people build and release: a run launched there must work end to end.

In-process tests cannot see what only the real product does: the workspace file loading the code
location in a code server, the default instance queuing runs for the daemon, a run worker in its
own process reading `BORN_DATA_DIR`, check results and table metadata stored in SQLite and served
over GraphQL, and the release gate reading the previous run's checks from that instance. This
module runs `dagster dev -w workspace.yaml` (what `make ui` runs) once and drives it as the UI does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from born_assets.defs.assets.release import RELEASE_VERSIONS
from born_assets.defs.automation import FILES_SENSOR, RELEASE_JOB, WAREHOUSE_JOB
from born_assets.defs.location import source_keys
from born_assets.layout import DataDir
from born_assets.specs.project import Project
from born_assets_tests.conftest import copy_sample_data
from born_assets_tests.webserver import (
    LOCATION,
    REPOSITORY,
    Webserver,
    instance_home,
    running_webserver,
)

VERSION = "v1"

_REPOSITORY = """
query Repository($repo: RepositorySelector!) {
  repositoryOrError(repositorySelector: $repo) {
    __typename
    ... on Repository {
      jobs { name }
      schedules { name cronSchedule executionTimezone }
      sensors { name }
      assetNodes { assetKey { path } groupName }
    }
  }
}
"""

_CHECKS = """
query Checks {
  assetNodes {
    assetKey { path }
    assetChecksOrError {
      __typename
      ... on AssetChecks {
        checks { name blocking executionForLatestMaterialization { status runId } }
      }
    }
  }
}
"""

_TRANSPARENCY = """
query Transparency($partition: String!) {
  assetNodes(assetKeys: [{path: ["transparency_table"]}]) {
    assetMaterializations(partitions: [$partition]) {
      runId
      metadataEntries { label ... on TableMetadataEntry { table { records } } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sample_data(tmp_path_factory.mktemp("webserver") / "data")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[Webserver]:
    home = instance_home(data_dir.parent / "dagster_home")
    with running_webserver(home, data_dir, daemon=True) as webserver:
        yield webserver


@pytest.fixture(scope="module")
def runs(server: Webserver) -> dict[str, tuple[str, str]]:
    """Build the warehouse, then cut release v1, each launched from the UI: job -> (id, status)."""
    partitions = RELEASE_VERSIONS.name
    assert partitions is not None
    warehouse_run = server.launch_run(WAREHOUSE_JOB)
    warehouse_status = server.wait_for_run(warehouse_run)
    server.add_partition(partitions, VERSION)
    release_run = server.launch_run(RELEASE_JOB, tags={"dagster/partition": VERSION})
    return {
        WAREHOUSE_JOB: (warehouse_run, warehouse_status),
        RELEASE_JOB: (release_run, server.wait_for_run(release_run)),
    }


def test_the_webserver_serves_the_graph_jobs_schedules_and_sensor(
    server: Webserver, data_dir: Path
) -> None:
    repo = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    found = server.graphql(_REPOSITORY, {"repo": repo})["repositoryOrError"]
    assert found["__typename"] == "Repository", found
    project = Project.load(DataDir.at(data_dir))
    keys = {"/".join(node["assetKey"]["path"]) for node in found["assetNodes"]}
    assert {k.to_user_string() for k in source_keys(project)} <= keys
    assert {"sanitized", "gated", "deduplicated", "row_fates", "release"} <= keys
    jobs = {job["name"] for job in found["jobs"] if not job["name"].startswith("__")}
    assert jobs == {WAREHOUSE_JOB, "build_curation", RELEASE_JOB}  # the UI's own jobs aside
    assert {
        "name": "build_lane_mbpp_plus_reference_schedule",
        "cronSchedule": "0 3 * * *",
        "executionTimezone": "UTC",
    } in found["schedules"]
    assert {"name": FILES_SENSOR} in found["sensors"]


def test_a_warehouse_run_and_a_release_run_launched_from_the_ui_succeed(
    runs: dict[str, tuple[str, str]], server: Webserver
) -> None:
    statuses = {job: status for job, (_, status) in runs.items()}
    assert statuses == {WAREHOUSE_JOB: "SUCCESS", RELEASE_JOB: "SUCCESS"}, server.log_tail()


def test_every_check_passed_and_the_ui_serves_its_result(
    runs: dict[str, tuple[str, str]], server: Webserver
) -> None:
    results = {}
    for node in server.graphql(_CHECKS)["assetNodes"]:
        checks = node["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", checks
        for check in checks["checks"]:
            execution = check["executionForLatestMaterialization"] or {}
            name = f"{'/'.join(node['assetKey']['path'])}:{check['name']}"
            results[name] = (execution.get("status"), execution.get("runId"))
    run_ids = {run_id for run_id, _ in runs.values()}
    assert len(results) > 40
    assert {name for name, (status, _) in results.items() if status != "SUCCEEDED"} == set()
    assert {run_id for _, run_id in results.values()} == run_ids
    assert results["release:fates_reconcile"][1] == runs[RELEASE_JOB][0]


def test_the_release_run_published_the_transparency_table_as_table_metadata(
    runs: dict[str, tuple[str, str]], server: Webserver, data_dir: Path
) -> None:
    (node,) = server.graphql(_TRANSPARENCY, {"partition": VERSION})["assetNodes"]
    (materialization,) = node["assetMaterializations"]
    assert materialization["runId"] == runs[RELEASE_JOB][0]
    (table,) = [e for e in materialization["metadataEntries"] if e["label"] == "table"]
    records = [json.loads(r) for r in table["table"]["records"]]
    project = Project.load(DataDir.at(data_dir))
    expected = {k.path[1] for k in source_keys(project)}
    assert expected <= {r["id"] for r in records}
    assert (data_dir / "releases" / VERSION / "release.json").exists()
