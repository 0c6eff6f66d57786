"""Import assets: one per import spec YAML, built by a factory when the definitions load."""

from functools import partial

import dagster as dg

from born_assets import layout
from born_assets.defs.assets.sources import SourceAssetSpec, source_asset
from born_assets.ingest.import_rows import ImportContext, import_row
from born_assets.ingest.record import Origin
from born_assets.schemas.vocabulary import OriginKind
from born_assets.specs.imports import LoadedImport

GROUP = layout.SOURCE_GROUPS[OriginKind.IMPORT]


def import_key(import_id: str) -> dg.AssetKey:
    """Asset key of an import."""
    return dg.AssetKey([GROUP, import_id])


def import_asset(loaded: LoadedImport) -> dg.AssetsDefinition:
    """The asset that reads one public trace dataset into rows with the full lineage record."""
    spec = loaded.spec
    return source_asset(
        SourceAssetSpec(
            key=import_key(spec.import_id),
            group=GROUP,
            origin=Origin(OriginKind.IMPORT.value, spec.import_id, loaded.content_hash),
            owner=spec.owner,
            description=(
                f"One row per accepted example of {spec.name} ({spec.format}). {spec.description}"
            ),
            folder=spec.files.path,
            glob=spec.files.glob,
            parse_row=partial(import_row, ImportContext(loaded)),
            metadata={
                "import_spec": dg.MetadataValue.path(str(loaded.path)),
                "import_spec_sha256": loaded.content_hash,
                "source_url": dg.MetadataValue.url(str(spec.source_url)),
                "format": spec.format,
                "license": spec.license,
                "source_type": spec.source_type.value,
            },
            tags={"dataset_family": spec.dataset_family, "format": spec.format},
        )
    )
