"""Lane assets: one per manifest YAML, built by a factory when the definitions load."""

from functools import partial
from typing import Any

import dagster as dg

from born_assets import layout
from born_assets.defs.assets.sources import SourceAssetSpec, source_asset
from born_assets.defs.resources import WarehouseResource
from born_assets.generation.attempts import LaneBusyError
from born_assets.generation.client import EndpointError
from born_assets.generation.generate import generate_lane
from born_assets.generation.plan import chat_client, plan_generation
from born_assets.generation.tasks import GenerationConfigError
from born_assets.ingest.lane_rows import LaneContext, lane_row
from born_assets.ingest.record import Origin
from born_assets.schemas.vocabulary import OriginKind
from born_assets.specs.manifests import LoadedManifest

GROUP = layout.SOURCE_GROUPS[OriginKind.LANE]


def lane_key(lane_id: str) -> dg.AssetKey:
    """Asset key of a lane."""
    return dg.AssetKey([GROUP, lane_id])


def generate_responses(
    loaded: LoadedManifest, context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dict[str, Any]:
    """Ask the lane's teacher for every task without a response yet, before the ingest reads."""
    spec = loaded.manifest.generation
    assert spec is not None
    base_url = dg.EnvVar(spec.base_url_env).get_value()
    if not base_url:
        raise dg.Failure(
            description=f"{loaded.path}: generation.base_url_env: ${spec.base_url_env} is not set"
        )
    api_key = dg.EnvVar(spec.api_key_env).get_value() if spec.api_key_env else None
    gates = warehouse.load_policy().gates
    kind = gates.kind_of(loaded.manifest.benchmark_family, uses_tools=False)
    required = gates.kinds[kind].required_sections
    try:
        plan = plan_generation(loaded, spec, warehouse.data)
        summary = generate_lane(
            plan, chat_client(spec, base_url, api_key), required_sections=required
        )
    except (GenerationConfigError, EndpointError, LaneBusyError) as error:
        raise dg.Failure(description=f"{loaded.path}: {error}") from error
    for reason, count in sorted(summary.failures.items()):
        context.log.warning(f"generation: {count} failed attempt(s): {reason}")
    context.log.info(
        f"generation: {summary.rows_written} new rows, {summary.already_done} done before, "
        f"{summary.given_up} given up, into {summary.rows_file}"
    )
    return summary.as_metadata(warehouse.data)


def _generation_metadata(loaded: LoadedManifest) -> dict[str, Any]:
    spec = loaded.manifest.generation
    if spec is None:
        return {}
    model = spec.model or loaded.manifest.teacher.model
    return {"generation": f"{model} at ${spec.base_url_env}, seed {spec.seed}"}


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
                **_generation_metadata(loaded),
            },
            tags={"benchmark_family": manifest.benchmark_family},
            prepare=partial(generate_responses, loaded) if manifest.generation else None,
        )
    )
