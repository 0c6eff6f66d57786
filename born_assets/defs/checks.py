"""Asset checks: one factory turns a schema into a blocking check; conservation checks on fates."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import pandera.pandas as pa

from born_assets.defs.resources import Warehouse
from born_assets.schemas.tools import iter_parquet_batches, unique_columns, validate_batches

MAX_EXAMPLES = 5


def schema_check(
    asset_key: dg.AssetKey, file_name: str, model: type[pa.DataFrameModel]
) -> dg.AssetChecksDefinition:
    """A blocking check that `file_name` of the asset matches `model`, validated in batches.

    Row-level rules run per batch (bounded memory); the model's unique columns are checked across
    the whole table with DuckDB. Only `SchemaErrors` become a failed check: any other exception is
    a bug in the check and surfaces as an error.
    """
    table = file_name.removesuffix(".parquet")

    @dg.asset_check(
        asset=asset_key,
        name=f"{table}_match_schema",
        description=f"Every row of `{file_name}` satisfies {model.__name__} (Pandera).",
        blocking=True,
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        path = warehouse.table(asset_key, file_name)
        report = validate_batches(model, iter_parquet_batches([path], warehouse.batch_rows))
        duplicates = _duplicate_keys(warehouse, path.as_posix(), unique_columns(model))
        failures = report.failures + sum(duplicates.values())
        return dg.AssetCheckResult(
            passed=failures == 0,
            metadata={
                "rows": report.rows,
                "failures": failures,
                "duplicate_keys": dict(duplicates),
                "examples": dg.MetadataValue.json(report.examples[:MAX_EXAMPLES]),
            },
        )

    return _check


def _duplicate_keys(warehouse: Warehouse, path: str, columns: Sequence[str]) -> dict[str, int]:
    """Rows beyond the first for each value of each unique column, over the whole file."""
    result = {}
    with warehouse.connect() as con:
        for column in columns:
            # `column` comes from the schema model, never from data.
            query = f'SELECT count("{column}") - count(DISTINCT "{column}") FROM read_parquet(?)'
            ((result[column],),) = con.execute(query, [path]).fetchall()
    return result


_RECONCILE_SQL = """
WITH seen AS (
    SELECT source_file, source_line FROM read_parquet($rows)
    UNION ALL
    SELECT source_file, source_line FROM read_parquet($quarantine)
), per_file AS (
    SELECT source_file, count(*) AS fated, count(DISTINCT source_line) AS distinct_lines,
           min(source_line) AS first_line, max(source_line) AS last_line
    FROM seen GROUP BY source_file
)
SELECT coalesce(f.source_file, p.source_file) AS source_file,
       coalesce(f.lines_read, 0) AS lines_read,
       coalesce(p.fated, 0) AS fated,
       coalesce(p.distinct_lines, 0) AS distinct_lines
FROM read_parquet($files) AS f
FULL OUTER JOIN per_file AS p ON f.source_file = p.source_file
WHERE f.source_file IS NULL
   OR coalesce(p.fated, 0) <> f.lines_read
   OR coalesce(p.distinct_lines, 0) <> f.lines_read
   OR coalesce(p.first_line, 1) < 1
   OR coalesce(p.last_line, 0) > f.lines_read
ORDER BY 1
"""


def lines_reconcile_check(asset_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    """A blocking check that every line read got exactly one fate: accepted or quarantined.

    For each input file in the ledger, the lines 1..lines_read must each appear exactly once
    across the accepted rows and the quarantine; a file with fates but no ledger entry fails too.
    """

    @dg.asset_check(
        asset=asset_key,
        name="lines_reconcile",
        description="Per input file: lines read = accepted + quarantined, each line exactly once.",
        blocking=True,
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        folder = warehouse.asset_dir(asset_key)
        params = {
            "rows": (folder / "rows.parquet").as_posix(),
            "quarantine": (folder / "quarantine.parquet").as_posix(),
            "files": (folder / "files.parquet").as_posix(),
        }
        with warehouse.connect() as con:
            mismatches = con.execute(_RECONCILE_SQL, params).fetchall()
        return dg.AssetCheckResult(
            passed=not mismatches,
            metadata={
                "files_not_reconciled": len(mismatches),
                "examples": dg.MetadataValue.json(
                    [
                        {"file": f, "lines_read": r, "fated": n, "distinct_lines": d}
                        for f, r, n, d in mismatches[:MAX_EXAMPLES]
                    ]
                ),
            },
        )

    return _check
