"""The `sanitized` asset: every lane and import row with hidden reasoning removed, as closures."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa

from born_assets import layout
from born_assets.defs.checks import (
    MAX_EXAMPLES,
    Check,
    in_words,
    passed_groups,
    reconcile_result,
    remembered_check,
    schema_check,
)
from born_assets.defs.metadata import column_schema, counts_table, preview
from born_assets.defs.resources import WarehouseResource
from born_assets.defs.unchanged import remember_result, remembered_result
from born_assets.sanitize.stage import (
    DERIVED_COLUMNS,
    SanitizeSummary,
    hidden_markers,
    sanitize_inputs,
    sanitize_stream,
    sanitize_versions,
    transform_problem,
)
from born_assets.schemas.curation import SanitizedRecord
from born_assets.schemas.fates import ExitRecord
from born_assets.store.conservation import Flow, unreconciled_flow
from born_assets.store.memo import RowMemo, write_versions
from born_assets.store.parallel import ordered_thread_map, worker_count
from born_assets.store.parquet import ParquetSink
from born_assets.store.unchanged import record

SANITIZED_KEY = dg.AssetKey(layout.Asset.SANITIZED)
NO_HIDDEN = dg.AssetCheckKey(SANITIZED_KEY, "no_hidden_reasoning")
TRANSFORMS = dg.AssetCheckKey(SANITIZED_KEY, "transforms_recorded")
GROUP = "curation"


def _lineage(sources: Sequence[dg.AssetKey]) -> dg.TableColumnLineage:
    """Column lineage: prompt and response derive from every source's prompt and response."""
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep(asset_key=k, column_name=column) for k in sources]
            for column in ("prompt", "response", "prompt_hash", "post_processing")
        }
        | {
            "messages": [
                dg.TableColumnDep(asset_key=k, column_name=column)
                for k in sources
                for column in ("prompt", "response")
            ]
        }
    )


def _metadata(
    summary: SanitizeSummary, warehouse: WarehouseResource, sources: Sequence[dg.AssetKey]
) -> dict[str, Any]:
    path = warehouse.table(SANITIZED_KEY, layout.ROWS)
    return {
        "dagster/row_count": summary.rows_out,
        "dagster/column_schema": column_schema(SanitizedRecord),
        "dagster/column_lineage": _lineage(sources),
        "rows_in": summary.rows_in,
        "rows_out": summary.rows_out,
        "quarantined_empty_by_reason": counts_table(summary.empty, "reason"),
        "transforms_applied": counts_table(summary.transforms, "transform"),
        "hidden_chars_removed": summary.hidden_chars_removed,
        "preview": preview(
            path, ["example_id", "origin_id", "sections_derived", "hidden_chars_removed"]
        ),
        "path": dg.MetadataValue.path(str(path)),
    }


def sanitized_asset(sources: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """Stream every source's rows through `sanitize_row` in batches."""

    @dg.asset(
        key=SANITIZED_KEY,
        deps=list(sources),
        group_name=GROUP,
        kinds={"python", "parquet"},
        owners=["team:data-eng"],
        description=(
            "One row per lane or import example with visible content: hidden reasoning removed, "
            "the response rewritten as Plan / Code or Patch / Checks / Result."
        ),
    )
    def _sanitized(warehouse: WarehouseResource) -> dg.MaterializeResult:
        summary = SanitizeSummary()
        inputs = [warehouse.table(k, layout.ROWS) for k in sources]
        policy = warehouse.load_policy().closure
        versions = sanitize_versions(policy)
        unchanged = remembered_result(
            warehouse, warehouse.asset_dir(SANITIZED_KEY), inputs, versions
        )
        if unchanged is not None:
            return unchanged
        memo = RowMemo.open(
            warehouse.asset_dir(SANITIZED_KEY), layout.ROWS, versions, DERIVED_COLUMNS
        )
        remembered = memo.groups()
        with warehouse.publish(SANITIZED_KEY) as staging:
            with (
                ParquetSink(
                    staging / layout.ROWS,
                    SanitizedRecord,
                    warehouse.batch_rows,
                    copies=remembered is not None,
                ) as rows,
                ParquetSink(staging / layout.EXITS, ExitRecord, warehouse.batch_rows) as exits,
            ):
                if remembered is not None and not rows.can_copy(remembered):
                    remembered = None
                batches = sanitize_inputs(inputs, warehouse.batch_rows, memo)
                workers = warehouse.worker_count(inputs)
                for done in sanitize_stream(batches, memo, workers, policy):
                    summary.add(done.summary)
                    # A batch that is a row group of the last output, unchanged, keeps its bytes.
                    group = memo.whole_group(done.rows) if remembered is not None else None
                    if remembered is not None and group is not None:
                        rows.copy_row_group(remembered, group)
                    else:
                        rows.write_batch(done.rows)
                    for row in done.exits:
                        exits.append(row)
            write_versions(staging, versions)
            step = record(staging, inputs, versions)  # once the sinks have closed their files
        metadata = _metadata(summary, warehouse, sources)
        metadata["rows_remembered"] = summary.remembered
        metadata["row_groups_copied"] = rows.row_groups_copied
        return remember_result(warehouse, warehouse.asset_dir(SANITIZED_KEY), step, metadata)

    return _sanitized


def _scanned(group_batch: tuple[int, pa.RecordBatch]) -> tuple[int, int, list[dict[str, Any]]]:
    group, batch = group_batch
    return group, batch.num_rows, hidden_markers(batch)


def _kept_rows(warehouse: WarehouseResource) -> list[Path]:
    return [warehouse.table(SANITIZED_KEY, layout.ROWS)]


def _reconcile_check(sources: Sequence[dg.AssetKey]) -> Check:
    """Per source file, the rows read = the rows sanitized + the rows that left (exits)."""

    def source_rows(warehouse: WarehouseResource) -> list[Path]:
        return [warehouse.table(k, layout.ROWS) for k in sources]

    def exits(warehouse: WarehouseResource) -> list[Path]:
        return [warehouse.table(SANITIZED_KEY, layout.EXITS)]

    def reads(warehouse: WarehouseResource) -> list[Path]:
        return [*source_rows(warehouse), *_kept_rows(warehouse), *exits(warehouse)]

    @remembered_check(
        asset=SANITIZED_KEY,
        name="rows_reconcile",
        description="Per source file: rows in = sanitized + quarantined (empty after stripping).",
        reads=reads,
    )
    def _reconcile(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        inflow = Flow(source_rows(warehouse))
        outflow = [Flow(_kept_rows(warehouse)), Flow(exits(warehouse))]
        with warehouse.connect() as con:
            return reconcile_result(unreconciled_flow(con, inflow, outflow))

    return _reconcile


def sanitized_checks(sources: Sequence[dg.AssetKey]) -> list[Check]:
    """Schemas, no hidden reasoning left, transforms recorded, and conservation per source."""

    @remembered_check(
        asset=SANITIZED_KEY,
        name=NO_HIDDEN.name,
        description=(
            "No hidden-reasoning marker of any known form is left in a response or in what a "
            "model or person wrote in the messages (tool calls and outputs are data)."
        ),
        reads=_kept_rows,
    )
    def _no_hidden(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        found: list[dict[str, object]] = []
        rows = 0
        (path,) = _kept_rows(warehouse)
        with passed_groups(warehouse, NO_HIDDEN, path) as groups:
            columns = ["example_id", "source_file", "source_line", "response", "messages"]
            batches = groups.batches(warehouse.batch_rows, columns)
            # The scan is Arrow's RE2 (the GIL released): batches are searched side by side.
            threads = worker_count(warehouse.workers, 2)
            for index, batch_rows, batch_found in ordered_thread_map(_scanned, batches, threads):
                rows += batch_rows
                found.extend(batch_found)
                if batch_found:
                    groups.fail(index)
        return dg.AssetCheckResult(
            passed=not found,
            description=in_words(len(found), "rows still holding hidden markers", found),
            metadata={
                "rows": rows + groups.rows_remembered,
                "rows_searched": rows,
                "rows_with_markers": len(found),
                "examples": found[:MAX_EXAMPLES],
            },
        )

    @remembered_check(
        asset=SANITIZED_KEY,
        name=TRANSFORMS.name,
        description="Every row's post_processing lists the transforms applied, in order.",
        reads=_kept_rows,
    )
    def _transforms(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        bad: list[dict[str, object]] = []
        columns = ["example_id", "post_processing"]
        (path,) = _kept_rows(warehouse)
        with passed_groups(warehouse, TRANSFORMS, path) as groups:
            for index, batch in groups.batches(warehouse.batch_rows, columns):
                for row in batch.to_pylist():
                    problem = transform_problem(row["post_processing"])
                    if problem:
                        bad.append({"example_id": row["example_id"], "problem": problem})
                        groups.fail(index)
        return dg.AssetCheckResult(
            passed=not bad,
            description=in_words(len(bad), "rows whose post_processing is wrong", bad),
            metadata={"rows_bad": len(bad), "examples": bad[:MAX_EXAMPLES]},
        )

    return [
        schema_check(SANITIZED_KEY, layout.ROWS, SanitizedRecord),
        schema_check(SANITIZED_KEY, layout.EXITS, ExitRecord),
        _no_hidden,
        _transforms,
        _reconcile_check(sources),
    ]
