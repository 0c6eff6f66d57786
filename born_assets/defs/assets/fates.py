"""The `row_fates` asset: one row per input line read by any lane or import, with its fate."""

from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from born_assets import layout
from born_assets.defs.checks import Check, reconcile_result, remembered_check, schema_check
from born_assets.defs.metadata import column_schema, counts_table, preview
from born_assets.defs.resources import WarehouseResource
from born_assets.defs.unchanged import remember_result, remembered_result
from born_assets.schemas.fates import RowFateRecord
from born_assets.schemas.vocabulary import Fate
from born_assets.store.conservation import unreconciled_lines
from born_assets.store.fates import fate_counts, ledger_inputs, write_row_fates
from born_assets.store.memo import code_version
from born_assets.store.unchanged import record

ROW_FATES_KEY = dg.AssetKey(layout.Asset.ROW_FATES)
GROUP = "curation"


def row_fates_asset(
    sources: Sequence[dg.AssetKey], stages: Sequence[tuple[dg.AssetKey, str]]
) -> dg.AssetsDefinition:
    """The fate ledger over every ingesting asset in `sources` and each later stage's exits.

    `stages` names each stage after ingest with the file of its exits table.
    """

    @dg.asset(
        key=ROW_FATES_KEY,
        deps=[*sources, *(key for key, _ in stages)],
        group_name=GROUP,
        kinds={"duckdb", "parquet"},
        owners=["team:data-eng"],
        description="One row per input line of every lane and import, with its one fate and why.",
    )
    def _row_fates(warehouse: WarehouseResource) -> dg.MaterializeResult:
        folder = warehouse.asset_dir(ROW_FATES_KEY)
        exits = [warehouse.table(key, name) for key, name in stages]
        ingested = [warehouse.asset_dir(k) for k in sources]
        read = ledger_inputs(ingested, exits)
        versions = {"code": code_version()}
        unchanged = remembered_result(warehouse, folder, read, versions)
        if unchanged is not None:
            return unchanged
        with warehouse.publish(ROW_FATES_KEY) as staging, warehouse.connect() as con:
            out = staging / layout.ROW_FATES
            write_row_fates(con, ingested, exits, Fate.ACCEPTED, out)
            counts = fate_counts(con, out)
            step = record(staging, read, versions)
        path = warehouse.table(ROW_FATES_KEY, layout.ROW_FATES)
        metadata = {
            "dagster/row_count": sum(counts.values()),
            "dagster/column_schema": column_schema(RowFateRecord),
            "rows_by_fate": counts_table(counts, "fate"),
            "preview": preview(path, ["source_file", "source_line", "fate", "stage", "reason"]),
            "path": dg.MetadataValue.path(str(path)),
        }
        return remember_result(warehouse, folder, step, metadata)

    return _row_fates


def row_fates_checks(sources: Sequence[dg.AssetKey]) -> list[Check]:
    """Schema of the ledger, and conservation: for every source file, lines read = sum of fates."""

    def ledgers(warehouse: WarehouseResource) -> list[Path]:
        return [warehouse.table(key, layout.FILES) for key in sources]

    def fates(warehouse: WarehouseResource) -> list[Path]:
        return [warehouse.table(ROW_FATES_KEY, layout.ROW_FATES)]

    @remembered_check(
        asset=ROW_FATES_KEY,
        name="fates_reconcile",
        description="For every input file: lines read = sum of fates, each line exactly once.",
        reads=lambda warehouse: [*fates(warehouse), *ledgers(warehouse)],
    )
    def _reconcile(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            return reconcile_result(unreconciled_lines(con, fates(warehouse), ledgers(warehouse)))

    return [schema_check(ROW_FATES_KEY, layout.ROW_FATES, RowFateRecord), _reconcile]
