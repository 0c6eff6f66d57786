"""Helpers for tests that materialize the real graph on a data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from born_assets.defs.location import build_definitions
from born_assets.defs.runner import JobRuns
from born_assets.layout import DataDir
from born_assets.specs.project import Project


def definitions(data_dir: Path) -> dg.Definitions:
    """The code location exactly as Dagster loads it, for a given data dir."""
    return build_definitions(Project.load(DataDir.at(data_dir)))


def nodes(defs: dg.Definitions) -> list[Any]:
    """The assets and asset checks of a definitions object, as `dg.materialize` takes them."""
    return [*(defs.assets or []), *(defs.asset_checks or [])]


UNPARTITIONED = "not group:release"


def materialize_all(data_dir: Path, selection: str = UNPARTITIONED) -> dg.ExecuteInProcessResult:
    """Materialize the selection (assets and their checks) in process; raise on failure.

    The default is everything but the release group, whose assets need a release partition
    (see `born_assets.defs.runner.materialize_release`, which runs the jobs).
    """
    defs = definitions(data_dir)
    return dg.materialize(
        nodes(defs),
        resources=defs.resources,
        selection=selection,
        instance=dg.DagsterInstance.ephemeral(),
    )


def check_results(result: dg.ExecuteInProcessResult | JobRuns) -> dict[tuple[str, str], bool]:
    """(asset key, check name) -> passed, for every check evaluated in the run."""
    return {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }


def materialization_metadata(
    result: dg.ExecuteInProcessResult | JobRuns, key: str
) -> dict[str, object]:
    """Metadata values of the asset's materialization in the run."""
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None and e.asset_key.to_user_string() == key
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def built_release(data_dir: Path, version: str = "v1") -> Path:
    """Copy the sample inputs into `data_dir`, build every asset and cut release `version`."""
    from born_assets.defs.runner import failure_messages, materialize_release
    from born_assets_tests.conftest import copy_sample_data

    copy_sample_data(data_dir)
    result = materialize_release(DataDir.at(data_dir), version)
    assert result.success, failure_messages(result)
    return data_dir
