"""Running the graph through Dagster from the command line, recorded in the Dagster instance."""

from __future__ import annotations

import os

import dagster as dg

from born_assets.defs.assets.release import RELEASE_KEY, RELEASE_VERSIONS
from born_assets.defs.location import build_definitions
from born_assets.layout import DataDir
from born_assets.schemas.vocabulary import IntendedUse
from born_assets.specs.project import Project


def instance() -> dg.DagsterInstance:
    """The instance in `$DAGSTER_HOME` (so `make ui` shows the run), else an ephemeral one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def materialize_release(
    data: DataDir, version: str, use: IntendedUse = IntendedUse.TRAIN
) -> dg.ExecuteInProcessResult:
    """Build every asset and the release partition `version`, cut for `use`, in one run."""
    defs = build_definitions(Project.load(data))
    nodes = [*(defs.assets or []), *(defs.asset_checks or [])]
    with instance() as dagster_instance:
        name = RELEASE_VERSIONS.name
        assert name is not None
        if not dagster_instance.has_dynamic_partition(name, version):
            dagster_instance.add_dynamic_partitions(name, [version])
        return dg.materialize(
            nodes,  # type: ignore[arg-type]
            resources=defs.resources,
            instance=dagster_instance,
            partition_key=version,
            raise_on_error=False,
            tags={"born/release_version": version, "born/release_use": use.value},
            run_config={"ops": {RELEASE_KEY.to_python_identifier(): {"config": {"use": use.name}}}},
        )


def _failure_text(event: dg.DagsterEvent) -> str:
    """The user-facing reason of a step failure (a `dg.Failure` description, else the error)."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        return data.error.message.strip()
    return event.message or "step failed"


def materialize_graph(data: DataDir) -> dg.ExecuteInProcessResult:
    """Build every asset except the release partitions (lanes, imports, curation, governance)."""
    defs = build_definitions(Project.load(data))
    nodes = [*(defs.assets or []), *(defs.asset_checks or [])]
    with instance() as dagster_instance:
        return dg.materialize(
            nodes,  # type: ignore[arg-type]
            resources=defs.resources,
            instance=dagster_instance,
            selection="not group:release",
            raise_on_error=False,
        )


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """What failed in a run: step failures and failed checks, one line each."""
    messages = [
        f"{event.step_key}: {_failure_text(event)}"
        for event in result.all_events
        if event.event_type_value == "STEP_FAILURE"
    ]
    messages += [
        f"check {e.asset_key.to_user_string()}:{e.check_name} failed"
        for e in result.get_asset_check_evaluations()
        if not e.passed
    ]
    return messages
