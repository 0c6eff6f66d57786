"""The `row_fates` asset: one row per input line read by any lane or import, with its fate."""

from collections.abc import Sequence

import dagster as dg

from born_assets.defs.checks import MAX_EXAMPLES, schema_check
from born_assets.defs.metadata import column_schema, counts_table, preview
from born_assets.defs.resources import Warehouse
from born_assets.schemas.fates import RowFateRecord
from born_assets.schemas.vocabulary import Fate
from born_assets.store.fates import fate_counts, write_row_fates

ROW_FATES_KEY = dg.AssetKey("row_fates")
ROW_FATES_FILE = "row_fates.parquet"
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
    def _row_fates(warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.publish(ROW_FATES_KEY) as staging, warehouse.connect() as con:
            out = staging / ROW_FATES_FILE
            exits = [warehouse.table(key, name) for key, name in stages]
            ingested = [warehouse.asset_dir(k) for k in sources]
            write_row_fates(con, ingested, exits, Fate.ACCEPTED, out)
            counts = fate_counts(con, out)
        path = warehouse.table(ROW_FATES_KEY, ROW_FATES_FILE)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(counts.values()),
                "dagster/column_schema": column_schema(RowFateRecord),
                "rows_by_fate": counts_table(counts, "fate"),
                "preview": preview(path, ["source_file", "source_line", "fate", "stage", "reason"]),
                "path": dg.MetadataValue.path(str(path)),
            }
        )

    return _row_fates


_FATES_RECONCILE_SQL = """
WITH fated AS (
    SELECT source_file, count(*) AS n, count(DISTINCT source_line) AS lines
    FROM read_parquet($fates) GROUP BY source_file
)
SELECT coalesce(f.source_file, x.source_file), coalesce(f.lines_read, 0), coalesce(x.n, 0)
FROM read_parquet($files) AS f FULL OUTER JOIN fated AS x ON f.source_file = x.source_file
WHERE coalesce(x.n, 0) <> coalesce(f.lines_read, -1) OR coalesce(x.lines, 0) <> coalesce(x.n, 0)
ORDER BY 1
"""


def row_fates_checks(sources: Sequence[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Schema of the ledger, and conservation: for every source file, lines read = sum of fates."""

    @dg.asset_check(
        asset=ROW_FATES_KEY,
        name="fates_reconcile",
        description="For every input file: lines read = sum of fates, each line exactly once.",
        blocking=True,
    )
    def _reconcile(warehouse: Warehouse) -> dg.AssetCheckResult:
        params = {
            "fates": warehouse.table(ROW_FATES_KEY, ROW_FATES_FILE).as_posix(),
            "files": [(warehouse.asset_dir(k) / "files.parquet").as_posix() for k in sources],
        }
        with warehouse.connect() as con:
            bad = con.execute(_FATES_RECONCILE_SQL, params).fetchall() if sources else []
        return dg.AssetCheckResult(
            passed=not bad,
            metadata={
                "files_checked": len(sources),
                "files_not_reconciled": len(bad),
                "examples": dg.MetadataValue.json(
                    [{"file": f, "lines_read": r, "fates": n} for f, r, n in bad[:MAX_EXAMPLES]]
                ),
            },
        )

    return [schema_check(ROW_FATES_KEY, ROW_FATES_FILE, RowFateRecord), _reconcile]
