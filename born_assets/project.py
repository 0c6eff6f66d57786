"""Build the project's Dagster objects from the YAML files found under the data dir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from born_assets.assets.broken import broken_spec_asset
from born_assets.assets.fates import row_fates_asset, row_fates_checks
from born_assets.assets.lanes import GROUP as LANES
from born_assets.assets.lanes import lane_asset, lane_checks, lane_key
from born_assets.manifests import LoadedManifest, load_manifests
from born_assets.resources import Warehouse
from born_assets.specs import SpecError

DATA_DIR_ENV = "BORN_DATA_DIR"
DEFAULT_DATA_DIR = "data"


def data_dir_from_env() -> Path:
    """The data dir: `$BORN_DATA_DIR`, else `./data`; read once, when definitions load."""
    return Path(os.environ.get(DATA_DIR_ENV, DEFAULT_DATA_DIR)).resolve()


@dataclass(frozen=True)
class Project:
    """Everything the YAML files under a data dir define."""

    data_dir: Path
    lanes: list[LoadedManifest]
    manifest_errors: list[SpecError]

    @classmethod
    def load(cls, data_dir: Path) -> Project:
        """Read the manifests; broken ones are kept as errors, not raised."""
        lanes, errors = load_manifests(data_dir / "manifests", data_dir)
        return cls(data_dir, lanes, errors)


def build_definitions(project: Project) -> dg.Definitions:
    """The code location: lane assets, the fate ledger, their checks, and the warehouse.

    Runs execute in one process: a step's work is streaming I/O that a process of its own would
    not speed up on this scale, while starting one costs seconds of imports per step.
    """
    lane_keys = [lane_key(loaded.manifest.lane_id) for loaded in project.lanes]
    assets = [lane_asset(loaded) for loaded in project.lanes]
    assets += [broken_spec_asset(LANES, error) for error in project.manifest_errors]
    assets.append(row_fates_asset(lane_keys))
    checks = [check for loaded in project.lanes for check in lane_checks(loaded.manifest.lane_id)]
    checks += row_fates_checks(lane_keys)
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        resources={"warehouse": Warehouse(data_dir=str(project.data_dir))},
        executor=dg.in_process_executor,
    )
