"""The contamination assets: every candidate row checked against the eval sets, and the report."""

from collections.abc import Sequence
from typing import Any

import dagster as dg
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.defs.assets.curation import DEDUPLICATED_KEY
from born_assets.defs.assets.sanitized import SANITIZED_KEY
from born_assets.defs.checks import Check, asset_check, schema_check
from born_assets.defs.metadata import column_schema, counts_table, markdown_table
from born_assets.defs.resources import WarehouseResource
from born_assets.defs.unchanged import remember_result, remembered_result
from born_assets.governance.contamination import CHECK_MEMO_COLUMNS
from born_assets.governance.contamination_stage import (
    check_candidates,
    contamination_versions,
    report_rows,
)
from born_assets.sanitize.stage import sanitized_text_versions
from born_assets.schemas.fates import ExitRecord
from born_assets.schemas.governance import (
    ContaminationCheckRecord,
    ContaminationMatchRecord,
    ContaminationNearestRecord,
    ContaminationReportRecord,
    ContaminationVerdictRecord,
)
from born_assets.specs.evals import load_eval_sets
from born_assets.specs.model_families import GeneratorOverlapAction
from born_assets.store.memo import RowMemo, write_versions
from born_assets.store.unchanged import record

CONTAMINATION_KEY = dg.AssetKey(layout.Asset.CONTAMINATION)
CONTAMINATION_REPORT_KEY = dg.AssetKey("contamination_report")
GROUP = "governance"
OWNERS = ["team:governance"]
REPORT_COLUMNS = ["eval_id", "origin_id", "rows_checked", "rows_excluded", "max_overlap_fraction"]


def contamination_asset(sources: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """Check every candidate training row against every registered eval set."""

    @dg.asset(
        key=CONTAMINATION_KEY,
        deps=[DEDUPLICATED_KEY, SANITIZED_KEY, *sources],
        group_name=GROUP,
        kinds={"python", "duckdb", "parquet"},
        owners=OWNERS,
        description=(
            "One row per candidate training row (dedup survivor): exact, n-gram, task-id and "
            "MinHash-similarity matches against every eval set in data/evals/, and the verdict; "
            "nearest.parquet lists each eval text's most similar training rows."
        ),
    )
    def _contamination(warehouse: WarehouseResource) -> dg.MaterializeResult:
        policy = warehouse.load_policy()
        eval_sets, errors = load_eval_sets(warehouse.data)
        if errors:
            raise dg.Failure(description="; ".join(str(e) for e in errors))
        versions = {
            **contamination_versions(policy.contamination, eval_sets, policy.similarity.params),
            **sanitized_text_versions(policy.closure),
        }
        folder = warehouse.asset_dir(CONTAMINATION_KEY)
        deduplicated = warehouse.table(DEDUPLICATED_KEY, layout.ROWS)
        sanitized = warehouse.table(SANITIZED_KEY, layout.ROWS)
        source_rows = [warehouse.table(k, layout.ROWS) for k in sources]
        read = [deduplicated, sanitized, *source_rows]
        unchanged = remembered_result(warehouse, folder, read, versions)
        if unchanged is not None:
            return unchanged
        remembered = RowMemo.open(folder, layout.CHECKS, versions, CHECK_MEMO_COLUMNS)
        with warehouse.publish(CONTAMINATION_KEY) as staging, warehouse.connect() as con:
            excluded, overlaps, remembered_rows = check_candidates(
                con,
                deduplicated=deduplicated,
                sanitized=sanitized,
                sources=source_rows,
                eval_sets=eval_sets,
                policy=policy.contamination,
                similarity=policy.similarity.params,
                out_dir=staging,
                batch_rows=warehouse.batch_rows,
                remembered=remembered,
                workers=warehouse.worker_count([deduplicated]),
            )
            write_versions(staging, versions)
            step = record(staging, read, versions)
        metadata = {
            "dagster/row_count": _rows(warehouse),
            "dagster/column_schema": column_schema(ContaminationVerdictRecord),
            "eval_sets": [e.eval_id for e in eval_sets],
            "excluded_by_method": counts_table(excluded, "method"),
            "rows_remembered": remembered_rows,
            "generator_overlaps": [str(o) for o in overlaps],
            "policy_sha256": policy.content_hash,
        }
        return remember_result(warehouse, folder, step, metadata)

    return _contamination


def _rows(warehouse: WarehouseResource) -> int:
    return int(pq.ParquetFile(warehouse.table(CONTAMINATION_KEY, layout.ROWS)).metadata.num_rows)


def contamination_report_asset() -> dg.AssetsDefinition:
    """The contamination report: per eval set and source, rows checked and excluded."""

    @dg.asset(
        key=CONTAMINATION_REPORT_KEY,
        deps=[CONTAMINATION_KEY],
        group_name=GROUP,
        kinds={"parquet"},
        owners=OWNERS,
        description=(
            "One row per eval set and lane or import: rows checked, rows excluded by method, "
            "the strongest matches (also printed by `born contamination`)."
        ),
    )
    def _report(warehouse: WarehouseResource) -> dg.MaterializeResult:
        rows = report_rows(warehouse.asset_dir(CONTAMINATION_KEY))
        schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in REPORT_COLUMNS])
        records = [dg.TableRecord({c: str(r[c]) for c in REPORT_COLUMNS}) for r in rows]
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(rows),
                "dagster/column_schema": column_schema(ContaminationReportRecord),
                "report": dg.MetadataValue.table(records, schema=schema),
                "markdown": dg.MetadataValue.md(markdown_table(rows, REPORT_COLUMNS)),
            }
        )

    return _report


def contamination_checks() -> list[Check]:
    """Schemas, and the generator-overlap report as a failing (non-blocking) check."""

    @asset_check(
        asset=CONTAMINATION_KEY,
        name="no_generator_overlap",
        description=(
            "No training row may go out that was generated by the model family that generated an "
            "eval set (families per contamination.model_families): passes when there is none or "
            "the policy blocks them (contamination.generator_overlap: block); fails naming them."
        ),
        blocking=False,
    )
    def _generator_overlap(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        action = warehouse.load_policy().contamination.generator_overlap
        eval_sets, _ = load_eval_sets(warehouse.data)
        generators = {e.eval_id: e.spec.generator_model for e in eval_sets}
        overlaps: list[dict[str, Any]] = [
            {
                "eval_id": row["eval_id"],
                "generator_model": generators.get(row["eval_id"]),
                "origin_id": row["origin_id"],
                "rows": row["generator_overlap_rows"],
            }
            for row in report_rows(warehouse.asset_dir(CONTAMINATION_KEY))
            if row["generator_overlap_rows"]
        ]
        verb = "excluded" if action is GeneratorOverlapAction.BLOCK else "left in"
        return dg.AssetCheckResult(
            passed=not overlaps or action is GeneratorOverlapAction.BLOCK,
            metadata={"overlaps": dg.MetadataValue.json(overlaps), "action": action.value},
            description="; ".join(
                f"eval set {o['eval_id']} was generated by the {o['generator_model']} family, "
                f"which also generated {o['rows']} rows of {o['origin_id']} ({verb})"
                for o in overlaps
            )
            or None,
        )

    return [
        schema_check(CONTAMINATION_KEY, layout.ROWS, ContaminationVerdictRecord),
        schema_check(CONTAMINATION_KEY, layout.MATCHES, ContaminationMatchRecord),
        schema_check(CONTAMINATION_KEY, layout.REPORT, ContaminationReportRecord),
        schema_check(CONTAMINATION_KEY, layout.NEAREST, ContaminationNearestRecord),
        schema_check(CONTAMINATION_KEY, layout.EXITS, ExitRecord),
        schema_check(CONTAMINATION_KEY, layout.CHECKS, ContaminationCheckRecord),
        _generator_overlap,
    ]
