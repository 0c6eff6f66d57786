"""Jobs, schedules and the file sensor: how lanes, imports, curation and releases get built.

Three jobs, named for what people do: `build_warehouse` (everything but the release),
`build_curation` (every stage downstream of the sources, reading them from the warehouse as they
are) and `cut_release` (the release partition named by the version; refused while a blocking
check did not pass in its latest run, see `born_assets.defs.release_gate`).

Building one source is `build_warehouse` run on a part of its assets, not a job of its own: each
lane whose manifest has a `schedule` gets a schedule, and one sensor watches every lane's and
import's files (`born_assets.ingest.watch`). Both request the changed sources plus everything
downstream of them but the release, in one run of `build_warehouse` tagged with the sources
(`born/sources`): the other sources are not read again, only their tables in the warehouse are.
From the UI, the same run is the `build_warehouse` job's "Materialize selected" with the source
and its downstream selected.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from born_assets.defs.assets.imports import import_key
from born_assets.defs.assets.lanes import lane_key
from born_assets.defs.assets.release import GROUP as RELEASE_GROUP
from born_assets.defs.resources import WarehouseResource
from born_assets.ingest.watch import SETTLE_S, Watch, decode, encode, run_key, scan
from born_assets.specs.project import Project

if TYPE_CHECKING:
    # What `dg.define_asset_job` returns; dagster does not export the name at the top level.
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition as AssetJob,
    )


WAREHOUSE_JOB = "build_warehouse"
CURATION_JOB = "build_curation"
RELEASE_JOB = "cut_release"
FILES_SENSOR = "source_files_sensor"
SENSOR_INTERVAL_S = 60
SCHEDULE_TIMEZONE = "UTC"
SOURCES_TAG = "born/sources"
BROKEN_SPECS = dg.AssetSelection.tag("spec_status", "broken")
RELEASE = dg.AssetSelection.groups(RELEASE_GROUP)


@dataclass(frozen=True)
class WatchedSource:
    """A lane or an import: its asset, the files it reads, and its own schedule (a cron)."""

    key: dg.AssetKey
    spec_path: Path
    folder: str
    glob: str
    schedule: str | None = None
    schedule_name: str | None = None

    @property
    def name(self) -> str:
        """The asset key as the UI shows it, e.g. `lanes/mbpp-plus-reference`."""
        return self.key.to_user_string()

    @property
    def watch(self) -> Watch:
        """Its files, named by the asset key."""
        return Watch(self.name, self.folder, self.glob)


def watched_sources(project: Project) -> list[WatchedSource]:
    """Every loaded lane and import; each lane with a schedule name no other lane has."""
    taken: set[str] = set()
    sources = [
        WatchedSource(
            key=lane_key(m.manifest.lane_id),
            spec_path=m.path,
            folder=m.manifest.output.path,
            glob=m.manifest.output.glob,
            schedule=m.manifest.cron,
            schedule_name=_schedule_name(m.manifest.lane_id, taken),
        )
        for m in project.lanes
    ]
    return sources + [
        WatchedSource(
            key=import_key(i.spec.import_id),
            spec_path=i.path,
            folder=i.spec.files.path,
            glob=i.spec.files.glob,
        )
        for i in project.imports
    ]


def _schedule_name(lane_id: str, taken: set[str]) -> str:
    """`build_lane_<id>_schedule`, `-` as `_` (names are `[A-Za-z0-9_]+`); a hash on a clash."""
    name = f"build_lane_{lane_id.replace('-', '_')}"
    if f"{name}_schedule" in taken:
        name = f"{name}_{hashlib.sha256(lane_id.encode()).hexdigest()[:8]}"
    taken.add(f"{name}_schedule")
    return f"{name}_schedule"


def sources_tag(keys: Sequence[dg.AssetKey]) -> dict[str, str]:
    """The run tag naming the sources a run was requested for, e.g. `lanes/a, imports/b`."""
    return {SOURCES_TAG: ", ".join(sorted(k.to_user_string() for k in keys))}


def run_selection(
    keys: Sequence[dg.AssetKey], assets: Sequence[dg.AssetsDefinition]
) -> list[dg.AssetKey]:
    """`keys` and everything downstream of them, except the release and broken specs."""
    selection = dg.AssetSelection.assets(*keys).downstream() - RELEASE - BROKEN_SPECS
    return sorted(selection.resolve(assets), key=lambda k: k.to_user_string())


def never_built(
    warehouse: WarehouseResource, sources: Sequence[WatchedSource]
) -> list[dg.AssetKey]:
    """Sources with no table in the warehouse yet: the stages after ingest cannot read them."""
    return [s.key for s in sources if not warehouse.asset_dir(s.key).exists()]


def files_sensor(
    sources: Sequence[WatchedSource],
    assets: Sequence[dg.AssetsDefinition],
    job: AssetJob,
) -> dg.SensorDefinition:
    """Request one run per tick for the sources whose files are new, changed or removed."""
    by_name = {s.name: s for s in sources}
    watches = [s.watch for s in sources]

    @dg.sensor(
        name=FILES_SENSOR,
        job=job,
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        description=(
            "Watches every lane's output files and every import's files under the data dir. "
            "When a file is new, changed (size or SHA-256) or removed, requests one run of the "
            "sources that changed plus everything downstream of them except the release. The "
            "run key is derived from the files' names, sizes and hashes, so the same files never "
            f"trigger twice. Files modified in the last {SETTLE_S:.0f}s wait for the next tick."
        ),
    )
    def _sensor(
        context: dg.SensorEvaluationContext, warehouse: WarehouseResource
    ) -> dg.SensorResult:
        found = scan(warehouse.data, watches, decode(context.cursor), time.time())
        cursor = encode(found.seen)
        if not found.changes:
            return dg.SensorResult(
                skip_reason=dg.SkipReason("no new, changed or removed files"), cursor=cursor
            )
        changed = [by_name[name].key for name in sorted(found.changes)]
        for name, lines in sorted(found.changes.items()):
            context.log.info(f"{name}: {len(lines)} new, changed or removed file(s): {lines[:3]}")
        missing = never_built(warehouse, [s for s in sources if s.key not in changed])
        request = dg.RunRequest(
            run_key=run_key(found.changes),
            asset_selection=run_selection([*changed, *missing], assets),
            tags=sources_tag(changed),
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor)

    return _sensor


def lane_schedule(
    source: WatchedSource,
    sources: Sequence[WatchedSource],
    assets: Sequence[dg.AssetsDefinition],
    job: AssetJob,
) -> dg.ScheduleDefinition | None:
    """The lane's own schedule; None (with a warning) when Dagster cannot read its cron."""
    assert source.schedule is not None and source.schedule_name is not None
    others = [s for s in sources if s.key != source.key]

    def _evaluate(
        context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource
    ) -> dg.RunRequest:
        missing = never_built(warehouse, others)
        return dg.RunRequest(
            asset_selection=run_selection([source.key, *missing], assets),
            tags=sources_tag([source.key]),
        )

    try:
        return dg.schedule(
            name=source.schedule_name,
            cron_schedule=source.schedule,
            job=job,
            execution_timezone=SCHEDULE_TIMEZONE,
            description=(
                f"Builds {source.name} and everything downstream of it except the release, on the "
                f"cron '{source.schedule}' ({SCHEDULE_TIMEZONE}) from {source.spec_path.name}. "
                "Sources never built before come along, so the run can read them."
            ),
        )(_evaluate)
    except dg.DagsterInvalidDefinitionError as error:
        dg.get_dagster_logger().warning(f"{source.spec_path}: schedule: {error}; no schedule")
        return None


@dataclass(frozen=True)
class Automation:
    """The jobs, schedules and sensors of the code location."""

    jobs: list[AssetJob]
    schedules: list[dg.ScheduleDefinition]
    sensors: list[dg.SensorDefinition]


def build_automation(project: Project, assets: Sequence[dg.AssetsDefinition]) -> Automation:
    """Jobs, lane schedules and the file sensor for the project's sources and `assets`."""
    sources = watched_sources(project)
    warehouse = dg.define_asset_job(
        WAREHOUSE_JOB,
        selection=dg.AssetSelection.all() - RELEASE - BROKEN_SPECS,
        description=(
            "Build every lane, import and curation stage: everything but the release. To build "
            "one source, select it and its downstream here and materialize the selection; the "
            "lane schedules and the file sensor run this job so, tagged born/sources."
        ),
    )
    curation = dg.define_asset_job(
        CURATION_JOB,
        selection=dg.AssetSelection.assets(*(s.key for s in sources)).downstream(include_self=False)
        - RELEASE,
        description=(
            "Rebuild every stage downstream of the lanes and imports (curation, governance) but "
            "the release, reading the lanes and imports from the warehouse as they are."
        ),
    )
    release = dg.define_asset_job(  # partitioned like the release assets: by RELEASE_VERSIONS
        RELEASE_JOB,
        selection=RELEASE,
        description=(
            "Cut the release named by the partition key (add the version as a partition) from "
            "the warehouse as it is. Refused while a blocking check upstream did not pass in its "
            "latest run."
        ),
    )
    schedules = [
        lane_schedule(s, sources, assets, warehouse) for s in sources if s.schedule is not None
    ]
    return Automation(
        jobs=[warehouse, curation, release],
        schedules=[s for s in schedules if s is not None],
        sensors=[files_sensor(sources, assets, warehouse)],
    )
