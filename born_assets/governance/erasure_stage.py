"""Honouring erasure across the warehouse and every stored release (Dagster-free).

Ingest already refuses every line a request or tombstone covers (recorded as `erased`, without
content). This stage then records the tombstones of those lines, rewrites each stored release
that still holds them and each review sheet that shows them, empties the caches that may hold
text of theirs (`forget_cached_results`), and can prove that no erased example survives anywhere.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.layout import DataDir
from born_assets.release.ledger import recover_releases
from born_assets.release.rewrite import ReleaseErasure, erase_from_release, erased_in_release
from born_assets.review.sheet import drop_sheet_rows
from born_assets.schemas.vocabulary import QuarantineReason
from born_assets.specs.erasure import (
    ErasureFilter,
    Tombstone,
    load_tombstones,
)
from born_assets.store.parquet import DEFAULT_BATCH_ROWS, iter_parquet_batches

TOMBSTONE_SCHEMA = pa.schema(
    [
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("raw_sha256", pa.string(), nullable=False),
        pa.field("request_id", pa.string(), nullable=False),
    ]
)


def erased_lines(con: duckdb.DuckDBPyConnection, source_dirs: Sequence[Path]) -> list[Tombstone]:
    """Tombstones of the lines ingest refused as erased (the request id is in `field`)."""
    paths = [
        (d / layout.QUARANTINE).as_posix() for d in source_dirs if (d / layout.QUARANTINE).exists()
    ]
    if not paths:
        return []
    rows = con.execute(
        "SELECT example_id, raw_sha256, field FROM read_parquet($p) "
        "WHERE reason = $erased AND example_id IS NOT NULL ORDER BY example_id",
        {"p": paths, "erased": QuarantineReason.ERASED.value},
    ).fetchall()
    return [Tombstone(e, h, r) for e, h, r in rows]


def record_tombstones(data: DataDir, new: Sequence[Tombstone]) -> tuple[list[Tombstone], int]:
    """Merge new tombstones into the store (they are never removed).

    Returns:
        All of them, and how many were not recorded before.
    """
    merged = {(t.example_id, t.raw_sha256): t for t in load_tombstones(data)}
    before = len(merged)
    for stone in new:
        merged.setdefault((stone.example_id, stone.raw_sha256), stone)
    stones = [merged[k] for k in sorted(merged)]
    path = data.tombstones
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([vars(s) for s in stones], schema=TOMBSTONE_SCHEMA)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
    return stones, len(stones) - before


def erase_review_sheets(data: DataDir, stones: Sequence[Tombstone]) -> dict[str, int]:
    """Rewrite every review sheet without the erased examples; rows dropped per file changed."""
    folder = data.review_sheets
    if not folder.is_dir():
        return {}
    erased = {s.example_id for s in stones}
    dropped = {}
    for path in sorted([*folder.glob("*.csv"), *folder.glob("*.jsonl")]):
        if rows := drop_sheet_rows(path, erased):
            dropped[data.relative(path)] = rows
    return dropped


def forget_cached_results(data: DataDir, execution_cache: Path) -> list[str]:
    """Empty the caches whose results may quote an erased row; returns the caches emptied.

    A sandboxed test result keeps the first failure of the row's code (its message may quote the
    code's own strings), and a check result its failing examples; neither names the rows it came
    from, so every entry goes, from the execution cache wherever it lies (`$BORN_EXECUTION_CACHE`
    may share one between data dirs). The next build runs those tests and checks again.
    """
    emptied = []
    for cache in (execution_cache, data.check_cache):
        if cache.is_dir():
            shutil.rmtree(cache)
            emptied.append(str(cache))
    return emptied


def erase_releases(
    con: duckdb.DuckDBPyConnection,
    data: DataDir,
    stones: Sequence[Tombstone],
    reindex: Callable[[str], object],
) -> list[ReleaseErasure]:
    """Rewrite every stored release that still holds an erased example.

    A rewritten release's similarity index (which holds previews of its rows) is rebuilt by
    `reindex(version)`, so it keeps nothing the release lost.
    """
    recover_releases(data)
    erased = {s.example_id: s.request_id for s in stones}
    done = []
    for release in data.published_releases():
        result = erase_from_release(con, release.path, erased)
        if result is not None:
            done.append(result)
            if data.similarity_index(release.version).is_built():
                reindex(release.version)
    return done


def survivors(
    con: duckdb.DuckDBPyConnection, tables: Sequence[Path], stones: Sequence[Tombstone]
) -> list[tuple[str, str]]:
    """(table, example_id) for every erased example still present in one of `tables`."""
    if not stones:
        return []
    con.register("tombstones", pa.table({"example_id": [s.example_id for s in stones]}))
    found: list[tuple[str, str]] = []
    try:
        for table in tables:
            if table.exists():
                rows = con.execute(
                    "SELECT DISTINCT t.example_id FROM read_parquet($p) AS t "
                    "JOIN tombstones USING (example_id)",
                    {"p": table.as_posix()},
                ).fetchall()
                found += [(table.as_posix(), r[0]) for r in rows]
    finally:
        con.unregister("tombstones")
    return found


MATCH_COLUMNS = [
    "example_id",
    "origin_kind",
    "origin_id",
    "source_benchmark",
    "source_id",
    "prompt",
    "response",
]


def preview(
    con: duckdb.DuckDBPyConnection,
    data: DataDir,
    source_dirs: Sequence[Path],
    eraser: ErasureFilter,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    """What `eraser` would erase: (request, origin, example_id) rows, and rows per release."""
    rows = [d / layout.ROWS for d in source_dirs if (d / layout.ROWS).exists()]
    matches = []
    for batch in iter_parquet_batches(rows, batch_rows, MATCH_COLUMNS):
        for row in batch.to_pylist():
            request = eraser.request_for(row, "")
            if request is not None:
                matches.append((request, row["origin_id"], row["example_id"]))
    erased = {example_id: request for request, _, example_id in matches}
    in_releases = {
        release.version: len(erased_in_release(con, release.path, erased))
        for release in data.published_releases()
    }
    return matches, in_releases
