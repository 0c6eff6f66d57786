"""Build the project's Dagster objects from the YAML files found under the data dir."""

from __future__ import annotations

import dagster as dg

from born_assets import layout
from born_assets.defs.assets.broken import broken_spec_asset
from born_assets.defs.assets.contamination import (
    CONTAMINATION_KEY,
    contamination_asset,
    contamination_checks,
    contamination_report_asset,
)
from born_assets.defs.assets.curation import (
    DEDUPLICATED_KEY,
    GATED_KEY,
    curation_checks,
    deduplicated_asset,
    gated_asset,
)
from born_assets.defs.assets.erasure import erasure_asset, erasure_checks
from born_assets.defs.assets.executed import (
    EXECUTED_KEY,
    executed_asset,
    executed_checks,
    execution_cache_from_env,
    lane_tests,
)
from born_assets.defs.assets.fates import row_fates_asset, row_fates_checks
from born_assets.defs.assets.imports import GROUP as IMPORTS
from born_assets.defs.assets.imports import import_asset, import_key
from born_assets.defs.assets.lanes import GROUP as LANES
from born_assets.defs.assets.lanes import lane_asset, lane_key
from born_assets.defs.assets.pii import pii_asset, pii_checks
from born_assets.defs.assets.release import release_asset, transparency_table_asset
from born_assets.defs.assets.review import human_reviews_asset, human_reviews_checks
from born_assets.defs.assets.sanitized import SANITIZED_KEY, sanitized_asset, sanitized_checks
from born_assets.defs.assets.similarity import similarity_index_asset
from born_assets.defs.assets.sources import source_checks
from born_assets.defs.automation import build_automation
from born_assets.defs.catalog import declared
from born_assets.defs.checks import checks_per_asset
from born_assets.defs.console import console_logger
from born_assets.defs.executor import executor_from_env, workers_from_env
from born_assets.defs.release_gate import release_gate
from born_assets.defs.resources import WarehouseResource
from born_assets.layout import DataDir
from born_assets.release.transparency import source_metas
from born_assets.specs.project import Project


def source_keys(project: Project) -> list[dg.AssetKey]:
    """Keys of every loaded lane and import."""
    keys = [lane_key(loaded.manifest.lane_id) for loaded in project.lanes]
    return keys + [import_key(loaded.spec.import_id) for loaded in project.imports]


def build_definitions(project: Project) -> dg.Definitions:
    """The code location: lane assets, the fate ledger, their checks, and the warehouse.

    Runs execute in one process unless `$BORN_EXECUTOR` says otherwise (`deployment`); the
    CPU-bound stages fan out to `$BORN_WORKERS` processes of their own.
    """
    sources = source_keys(project)
    assets = [lane_asset(loaded) for loaded in project.lanes]
    assets += [import_asset(loaded) for loaded in project.imports]
    assets += [broken_spec_asset(LANES, error) for error in project.lane_errors]
    assets += [broken_spec_asset(IMPORTS, error) for error in project.import_errors]
    assets.append(sanitized_asset(sources))
    assets += [gated_asset(), deduplicated_asset(sources)]
    assets += [contamination_asset(sources), contamination_report_asset(), pii_asset()]
    assets.append(executed_asset(sources, lane_tests(project)))
    stages = [
        (key, layout.EXITS)
        for key in (SANITIZED_KEY, GATED_KEY, DEDUPLICATED_KEY, CONTAMINATION_KEY, EXECUTED_KEY)
    ]
    assets.append(row_fates_asset(sources, stages))
    assets.append(erasure_asset(sources))
    assets.append(human_reviews_asset())
    assets.append(release_asset(sources, source_metas(project), project.spec_hashes()))
    assets.append(transparency_table_asset())
    assets.append(similarity_index_asset())
    assets = declared(assets)
    declared_checks = [check for key in sources for check in source_checks(key)]
    declared_checks += sanitized_checks(sources)
    declared_checks += curation_checks()
    declared_checks += erasure_checks(sources)
    declared_checks += human_reviews_checks()
    declared_checks += contamination_checks()
    declared_checks += pii_checks()
    declared_checks += executed_checks()
    declared_checks += row_fates_checks(sources)
    checks = checks_per_asset(declared_checks)
    automation = build_automation(project, assets)
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=automation.jobs,
        schedules=automation.schedules,
        sensors=automation.sensors,
        resources={
            "warehouse": WarehouseResource(
                data_dir=str(project.data.root),
                workers=workers_from_env(),
                execution_cache=execution_cache_from_env(),
            ),
            "release_gate": release_gate(checks),
        },
        executor=executor_from_env(),
        loggers={"console": console_logger()},
    )


@dg.definitions
def location() -> dg.Definitions:
    """The code location for the data dir named by `$BORN_DATA_DIR` (default `./data`)."""
    return build_definitions(Project.load(DataDir.from_env()))
