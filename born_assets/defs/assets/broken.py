"""Placeholder nodes for specs that failed to load: visible in the UI, failing if run."""

import dagster as dg

from born_assets.specs.common import SpecError, asset_name


def broken_spec_asset(group: str, error: SpecError) -> dg.AssetsDefinition:
    """A node keyed `<group>/<file stem>` whose description is the spec's error.

    It keeps the broken lane or import on the graph, so the person who wrote the YAML sees what to
    fix, while every other lane and import loads and runs as usual.
    """

    @dg.asset(
        key=dg.AssetKey([group, asset_name(error.path)]),
        group_name=group,
        kinds={"yaml"},
        owners=["team:data-eng"],
        description=f"BROKEN SPEC. {error}",
        metadata={"spec": dg.MetadataValue.path(str(error.path)), "error": str(error)},
        tags={"spec_status": "broken"},
    )
    def _broken() -> dg.MaterializeResult:
        raise dg.Failure(description=f"{group} spec cannot be loaded: {error}")

    return _broken
