"""What the UI shows of every asset before its first run: its column schema and its code."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from born_assets.defs.assets.contamination import CONTAMINATION_KEY, CONTAMINATION_REPORT_KEY
from born_assets.defs.assets.curation import DEDUPLICATED_KEY, GATED_KEY
from born_assets.defs.assets.executed import EXECUTED_KEY
from born_assets.defs.assets.fates import ROW_FATES_KEY
from born_assets.defs.assets.pii import PII_KEY
from born_assets.defs.assets.release import RELEASE_KEY, TRANSPARENCY_KEY, TRANSPARENCY_SCHEMA
from born_assets.defs.assets.review import HUMAN_REVIEWS_KEY
from born_assets.defs.assets.sanitized import SANITIZED_KEY
from born_assets.defs.assets.similarity import SIMILARITY_INDEX_KEY
from born_assets.defs.metadata import column_schema
from born_assets.layout import SOURCE_GROUPS
from born_assets.schemas.curation import DeduplicatedRecord, GatedRecord, SanitizedRecord
from born_assets.schemas.execution import ExecutedRecord
from born_assets.schemas.fates import RowFateRecord
from born_assets.schemas.governance import (
    ContaminationReportRecord,
    ContaminationVerdictRecord,
    PiiVerdictRecord,
)
from born_assets.schemas.ingest import LineageRecord
from born_assets.schemas.release import ReleaseRecord, SimilarityIndexRecord
from born_assets.schemas.review import HumanReviewRecord

SCHEMAS: dict[dg.AssetKey, dg.TableSchema] = {
    SANITIZED_KEY: column_schema(SanitizedRecord),
    GATED_KEY: column_schema(GatedRecord),
    DEDUPLICATED_KEY: column_schema(DeduplicatedRecord),
    EXECUTED_KEY: column_schema(ExecutedRecord),
    CONTAMINATION_KEY: column_schema(ContaminationVerdictRecord),
    CONTAMINATION_REPORT_KEY: column_schema(ContaminationReportRecord),
    PII_KEY: column_schema(PiiVerdictRecord),
    ROW_FATES_KEY: column_schema(RowFateRecord),
    HUMAN_REVIEWS_KEY: column_schema(HumanReviewRecord),
    RELEASE_KEY: column_schema(ReleaseRecord),
    TRANSPARENCY_KEY: TRANSPARENCY_SCHEMA,
    SIMILARITY_INDEX_KEY: column_schema(SimilarityIndexRecord),
}
SOURCE_SCHEMA = column_schema(LineageRecord)


def _schema_of(spec: dg.AssetSpec) -> dg.TableSchema | None:
    if spec.key in SCHEMAS:
        return SCHEMAS[spec.key]
    if spec.group_name in SOURCE_GROUPS.values() and spec.tags.get("spec_status") != "broken":
        return SOURCE_SCHEMA
    return None


def _declare(spec: dg.AssetSpec) -> dg.AssetSpec:
    schema = _schema_of(spec)
    if schema is None:
        return spec
    return spec.merge_attributes(metadata={"dagster/column_schema": schema})


def declared(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """`assets` with their column schema in their definition and a link to their code."""
    mapped = dg.map_asset_specs(_declare, assets)
    return [a for a in dg.with_source_code_references(mapped) if isinstance(a, dg.AssetsDefinition)]
