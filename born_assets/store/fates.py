"""The `row_fates` ledger: every input line with its one fate, assembled with DuckDB.

Fates come from three places: lines quarantined at ingest, rows that a later stage removed (its
"exits" table, one row per removed example with fate, stage, reason and detail), and rows that
made it through every stage built so far, which get the final fate (`accepted` until a release
includes them, then `released`). Stages that judge the same rows side by side (contamination and
the test run both read the dedup survivors) may both remove one example: its fate is then the
earliest stage's, in pipeline order (`Stage`), so each line still has exactly one. The query
streams Parquet to Parquet in bounded Arrow batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from born_assets import layout
from born_assets.schemas.derive import arrow_schema
from born_assets.schemas.fates import RowFateRecord
from born_assets.schemas.vocabulary import Fate, Stage
from born_assets.store.parquet import DEFAULT_BATCH_ROWS, ParquetSink

EXIT_COLUMNS = "example_id, fate, stage, reason, detail"
LEDGER_ORDER = "origin_kind, origin_id, source_file, source_line"


def _list(paths: Sequence[Path]) -> list[str]:
    return [p.as_posix() for p in paths]


def ledger_inputs(ingest_dirs: Sequence[Path], exit_tables: Sequence[Path]) -> list[Path]:
    """Every file `row_fates_query` reads: each ingest's rows and quarantine, each stage's exits."""
    return [
        *(d / layout.ROWS for d in ingest_dirs),
        *(d / layout.QUARANTINE for d in ingest_dirs),
        *exit_tables,
    ]


def row_fates_query(
    ingest_dirs: Sequence[Path], exit_tables: Sequence[Path], final_fate: Fate
) -> tuple[str, dict[str, object]]:
    """SQL (and its parameters) selecting one fate per input line of the given ingest folders."""
    params: dict[str, object] = {
        "rows": _list([d / layout.ROWS for d in ingest_dirs]),
        "quarantine": _list([d / layout.QUARANTINE for d in ingest_dirs]),
        "final_fate": final_fate.value,
        "quarantined": Fate.QUARANTINED.value,
        "erased": Fate.ERASED.value,
        "final_stage": Stage.RELEASE.value if final_fate is Fate.RELEASED else Stage.INGEST.value,
    }
    exits = "SELECT NULL::VARCHAR AS example_id, NULL::VARCHAR AS fate, NULL::VARCHAR AS stage, "
    exits += "NULL::VARCHAR AS reason, NULL::VARCHAR AS detail WHERE false"
    if exit_tables:
        params["exits"] = _list(exit_tables)
        params["stage_order"] = [stage.value for stage in Stage]
        exits = (
            f"SELECT {EXIT_COLUMNS} FROM read_parquet($exits, union_by_name = true) "
            "QUALIFY row_number() OVER (PARTITION BY example_id "
            "ORDER BY list_position($stage_order, stage), fate, reason) = 1"
        )
    query = f"""
        WITH rows AS (
            SELECT origin_kind, origin_id, source_file, source_line, example_id
            FROM read_parquet($rows)
        ), exits AS ({exits})
        SELECT origin_kind, origin_id, source_file, source_line, example_id,
               CASE WHEN reason = $erased THEN $erased ELSE $quarantined END AS fate,
               stage, reason, field AS detail
        FROM read_parquet($quarantine)
        UNION ALL
        SELECT r.origin_kind, r.origin_id, r.source_file, r.source_line, r.example_id,
               coalesce(e.fate, $final_fate) AS fate,
               coalesce(e.stage, $final_stage) AS stage,
               e.reason, e.detail
        FROM rows AS r LEFT JOIN exits AS e ON r.example_id = e.example_id
    """
    return query, params


def write_row_fates(
    con: duckdb.DuckDBPyConnection,
    ingest_dirs: Sequence[Path],
    exit_tables: Sequence[Path],
    final_fate: Fate,
    out_path: Path,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> None:
    """Write the ledger to `out_path` with the `RowFateRecord` columns, in a stable order.

    Streamed through Arrow batches and the project's Parquet writer, so the same inputs give the
    same bytes (releases hash this file).
    """
    query, params = row_fates_query(ingest_dirs, exit_tables, final_fate)
    columns = ", ".join(f'"{name}"' for name in arrow_schema(RowFateRecord).names)
    ordered = f"SELECT {columns} FROM ({query}) ORDER BY {LEDGER_ORDER}"
    reader = con.sql(ordered, params=params).to_arrow_reader(batch_rows)
    with ParquetSink(out_path, RowFateRecord, batch_rows) as sink:
        for batch in reader:
            sink.write_batch(batch)


def fate_counts(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    """Lines per fate in a written ledger."""
    rows = con.execute(
        "SELECT fate, count(*) FROM read_parquet($p) GROUP BY fate", {"p": path.as_posix()}
    ).fetchall()
    return {str(fate): int(n) for fate, n in rows}
