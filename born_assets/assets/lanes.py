"""Lane assets: one per manifest YAML, built by a factory when the definitions load."""

from functools import partial

import dagster as dg

from born_assets.checks import lines_reconcile_check, schema_check
from born_assets.ingest import (
    QUARANTINE_FILE,
    ROWS_FILE,
    Origin,
    ingest_files,
    input_files,
)
from born_assets.ingest_metadata import ingest_metadata
from born_assets.lane_rows import LaneContext, lane_row
from born_assets.manifests import LoadedManifest
from born_assets.resources import Warehouse
from born_assets.schemas import LineageRecord, OriginKind, QuarantineRecord

GROUP = "lanes"
KINDS = {"python", "parquet"}


def lane_key(lane_id: str) -> dg.AssetKey:
    """Asset key of a lane."""
    return dg.AssetKey([GROUP, lane_id])


def lane_asset(loaded: LoadedManifest) -> dg.AssetsDefinition:
    """The asset that ingests one lane's output files with the full lineage record."""
    manifest = loaded.manifest
    lane_context = LaneContext(loaded)

    @dg.asset(
        key=lane_key(manifest.lane_id),
        group_name=GROUP,
        kinds=KINDS,
        owners=[manifest.owner],
        code_version=loaded.content_hash[:16],
        description=(
            f"One row per accepted {manifest.benchmark_family} example from teacher "
            f"{manifest.teacher.model} ({manifest.teacher.version}). {manifest.description}"
        ),
        metadata={
            "manifest": dg.MetadataValue.path(str(loaded.path)),
            "manifest_sha256": loaded.content_hash,
            "benchmark_family": manifest.benchmark_family,
            "teacher": f"{manifest.teacher.model} {manifest.teacher.version}",
            "source_type": manifest.source_type.value,
            "tasks_assigned": len(loaded.task_ids),
        },
        tags={"benchmark_family": manifest.benchmark_family},
    )
    def _lane(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        files = input_files(warehouse.root, manifest.output.path, manifest.output.glob)
        if not files:
            pattern = f"{manifest.output.path}/{manifest.output.glob}"
            context.log.warning(f"lane {manifest.lane_id}: no files match {pattern}")
        key = lane_key(manifest.lane_id)
        with warehouse.publish(key) as staging:
            summary = ingest_files(
                files,
                origin=Origin(OriginKind.LANE.value, manifest.lane_id),
                data_dir=warehouse.root,
                parse_row=partial(lane_row, lane_context),
                out_dir=staging,
                batch_rows=warehouse.batch_rows,
            )
        for message in summary.example_messages:
            context.log.warning(f"quarantined: {message}")
        return dg.MaterializeResult(metadata=ingest_metadata(summary, warehouse.asset_dir(key)))

    return _lane


def lane_checks(lane_id: str) -> list[dg.AssetChecksDefinition]:
    """The blocking checks every lane carries."""
    key = lane_key(lane_id)
    return [
        schema_check(key, ROWS_FILE, LineageRecord),
        schema_check(key, QUARANTINE_FILE, QuarantineRecord),
        lines_reconcile_check(key),
    ]
