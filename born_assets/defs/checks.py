"""Asset checks: one factory turns a schema into a blocking check; conservation checks on fates."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import pandera.pandas as pa

from born_assets import layout
from born_assets.defs.resources import WarehouseResource
from born_assets.schemas.derive import unique_columns, validate_batches
from born_assets.store.conservation import (
    FlowMismatch,
    LineMismatch,
    unreconciled_lines,
)
from born_assets.store.parquet import iter_parquet_batches

MAX_EXAMPLES = 5
_WHERE = ("example_id", "source_file", "source_line")


def _code(value: object) -> str:
    """A value as a Markdown code span: the UI renders descriptions, and `<think>` is not HTML."""
    text = str(value)
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _example_text(example: object) -> str:
    """One offending example in words: `ex_… (file line N): column x fails check (value …)`."""
    if isinstance(example, list | tuple):
        return " ".join(str(part) for part in example)
    if not isinstance(example, dict):
        return str(example)
    where = ""
    if "source_file" in example and "source_line" in example:
        where = f" ({example['source_file']} line {example['source_line']})"
    if "column" in example and "check" in example:
        what = f"column {example['column']} fails {example['check']}"
        what += f" (value {_code(repr(example.get('failure_case')))})"
    else:
        what = ", ".join(f"{k} {_code(v)}" for k, v in example.items() if k not in _WHERE)
    return f"{example.get('example_id', '')}{where}: {what}".lstrip(": ")


def in_words(count: int, what: str, examples: Sequence[object]) -> str:
    """A check's outcome as a sentence: `no <what>`, or the count and the first examples."""
    if not count:
        return f"no {what}"
    first = "; ".join(_example_text(e) for e in examples[:MAX_EXAMPLES])
    return f"{count} {what}. First: {first}" if first else f"{count} {what}"


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
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        path = warehouse.table(asset_key, file_name)
        report = validate_batches(model, iter_parquet_batches([path], warehouse.batch_rows))
        duplicates = _duplicate_keys(warehouse, path.as_posix(), unique_columns(model))
        failures = report.failures + sum(duplicates.values())
        repeated = [f"{n} repeated values of {c}" for c, n in duplicates.items() if n]
        return dg.AssetCheckResult(
            passed=failures == 0,
            description=in_words(
                failures, f"failures against {model.__name__}", [*repeated, *report.examples]
            ),
            metadata={
                "rows": report.rows,
                "failures": failures,
                "duplicate_keys": dict(duplicates),
                "examples": dg.MetadataValue.json(report.examples[:MAX_EXAMPLES]),
            },
        )

    return _check


def _duplicate_keys(
    warehouse: WarehouseResource, path: str, columns: Sequence[str]
) -> dict[str, int]:
    """Rows beyond the first for each value of each unique column, over the whole file."""
    result = {}
    with warehouse.connect() as con:
        for column in columns:
            # `column` comes from the schema model, never from data.
            query = f'SELECT count("{column}") - count(DISTINCT "{column}") FROM read_parquet(?)'
            ((result[column],),) = con.execute(query, [path]).fetchall()
    return result


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
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        fated = [
            warehouse.table(asset_key, layout.ROWS),
            warehouse.table(asset_key, layout.QUARANTINE),
        ]
        with warehouse.connect() as con:
            bad = unreconciled_lines(con, fated, [warehouse.table(asset_key, layout.FILES)])
        return reconcile_result(bad)

    return _check


def reconcile_result(bad: Sequence[LineMismatch | FlowMismatch]) -> dg.AssetCheckResult:
    """A conservation check's result: passed when nothing is unreconciled, else examples."""
    return dg.AssetCheckResult(
        passed=not bad,
        description=in_words(
            len(bad), "source files whose counts do not reconcile", [m.as_dict() for m in bad]
        ),
        metadata={
            "not_reconciled": len(bad),
            "examples": dg.MetadataValue.json([m.as_dict() for m in bad[:MAX_EXAMPLES]]),
        },
    )
