"""Lane assets: one per manifest YAML, built by a factory when the definitions load."""

from functools import partial

import dagster as dg

from born_assets.assets.sources import SourceAssetSpec, source_asset
from born_assets.lane_rows import LaneContext, lane_row
from born_assets.manifests import LoadedManifest
from born_assets.record import Origin
from born_assets.schemas import OriginKind

GROUP = "lanes"


def lane_key(lane_id: str) -> dg.AssetKey:
    """Asset key of a lane."""
    return dg.AssetKey([GROUP, lane_id])


def lane_asset(loaded: LoadedManifest) -> dg.AssetsDefinition:
    """The asset that ingests one lane's output files with the full lineage record."""
    manifest = loaded.manifest
    return source_asset(
        SourceAssetSpec(
            key=lane_key(manifest.lane_id),
            group=GROUP,
            origin=Origin(OriginKind.LANE.value, manifest.lane_id, loaded.content_hash),
            owner=manifest.owner,
            description=(
                f"One row per accepted {manifest.benchmark_family} example from teacher "
                f"{manifest.teacher.model} ({manifest.teacher.version}). {manifest.description}"
            ),
            folder=manifest.output.path,
            glob=manifest.output.glob,
            parse_row=partial(lane_row, LaneContext(loaded)),
            metadata={
                "manifest": dg.MetadataValue.path(str(loaded.path)),
                "manifest_sha256": loaded.content_hash,
                "benchmark_family": manifest.benchmark_family,
                "teacher": f"{manifest.teacher.model} {manifest.teacher.version}",
                "source_type": manifest.source_type.value,
                "tasks_assigned": len(loaded.task_ids),
                "prompt_template": f"{manifest.prompt_template.id} ({loaded.template_hash[:12]})",
            },
            tags={"benchmark_family": manifest.benchmark_family},
        )
    )
