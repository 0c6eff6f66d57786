"""Rows to review, read with DuckDB: from the warehouse's dedup survivors or from a release.

Only the sample is materialized: the sampling order (`sheet.sample_key`: SHA-256 of
`<seed>:<example_id>`) and the limit run inside DuckDB, so the text of a large warehouse is never
loaded whole. The gate verdicts come from the `gated` table. From the warehouse, the text shown
(and hashed) is the text that ships: the PII stage's redacted text where it rewrote a row
(`warehouse/pii/redacted.parquet`), and rows the contamination stage removed
(`warehouse/contamination/exits.parquet`) are not offered; both are used when they exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from born_assets import layout
from born_assets.layout import SOURCE_GROUPS, Asset, DataDir, ReleaseDir
from born_assets.review.verdicts import RowHashes

_GATES = (
    "g.curation_score, g.is_structural_ok, g.is_format_ok, g.is_length_ok, g.soft_failure_reasons"
)
_ORDER = "ORDER BY sha256(CAST($seed AS VARCHAR) || ':' || example_id) LIMIT $n"
_LANE = "($lane IS NULL OR origin_id = $lane)"


def _table(data: DataDir, stage: str) -> str:
    path = data.stage(stage) / layout.ROWS
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: materialize the graph first (born release)")
    return path.as_posix()


def _source_tables(data: DataDir) -> list[str]:
    """rows.parquet of every lane and import asset (not the hidden versioned folders)."""
    found = []
    for group in SOURCE_GROUPS.values():
        folder = data.warehouse / group
        if folder.is_dir():
            found += [
                (p / layout.ROWS).as_posix()
                for p in sorted(folder.iterdir())
                if not p.name.startswith(".") and (p / layout.ROWS).is_file()
            ]
    return found


def _optional(path: Path) -> Path | None:
    return path if path.is_file() else None


def _warehouse_sql(
    data: DataDir, redacted: Path | None, exclude_contaminated: bool
) -> tuple[str, dict[str, Any]]:
    sources = _source_tables(data)
    redacted = redacted or _optional(data.stage(Asset.PII) / layout.REDACTED)
    contaminated = (
        _optional(data.stage(Asset.CONTAMINATION) / layout.EXITS) if exclude_contaminated else None
    )
    source_ids = (
        "LEFT JOIN (SELECT example_id, source_id FROM read_parquet($sources, union_by_name = true))"
        " AS src USING (example_id)"
        if sources
        else "LEFT JOIN (SELECT NULL::VARCHAR AS example_id, NULL::VARCHAR AS source_id) AS src"
        " USING (example_id)"
    )
    shown = "coalesce(red.{0}, s.{0})" if redacted else "s.{0}"
    prompt, response = shown.format("prompt"), shown.format("response")
    join_redacted = (
        "LEFT JOIN read_parquet($redacted) AS red USING (example_id)" if redacted else ""
    )
    exclude = (
        "WHERE example_id NOT IN (SELECT example_id FROM read_parquet($contaminated))"
        if contaminated
        else ""
    )
    sql = f"""
        SELECT example_id, s.origin_id, src.source_id, s.prompt_hash,
               sha256({response}) AS response_sha256, {_GATES},
               {prompt} AS prompt, {response} AS response
        FROM read_parquet($deduplicated) AS d
        JOIN read_parquet($sanitized) AS s USING (example_id)
        JOIN read_parquet($gated) AS g USING (example_id)
        {join_redacted}
        {source_ids}
        {exclude}
    """
    params: dict[str, Any] = {
        "deduplicated": _table(data, Asset.DEDUPLICATED),
        "sanitized": _table(data, Asset.SANITIZED),
        "gated": _table(data, Asset.GATED),
    }
    if sources:
        params["sources"] = sources
    if redacted is not None:
        params["redacted"] = redacted.as_posix()
    if contaminated is not None:
        params["contaminated"] = contaminated.as_posix()
    return sql, params


def _release_sql(data: DataDir, release_dir: Path) -> tuple[str, dict[str, Any]]:
    shards = sorted(p.as_posix() for p in ReleaseDir(release_dir).shards())
    if not shards:
        raise FileNotFoundError(f"{release_dir} holds no data/*.parquet shards")
    sql = f"""
        SELECT example_id, r.origin_id, r.source_id, r.prompt_hash,
               sha256(r.response) AS response_sha256, {_GATES}, r.prompt, r.response
        FROM read_parquet($shards) AS r
        LEFT JOIN read_parquet($gated) AS g USING (example_id)
    """
    return sql, {"shards": shards, "gated": _table(data, Asset.GATED)}


def _rows_sql(
    data: DataDir, release_dir: Path | None, redacted: Path | None, exclude_contaminated: bool
) -> tuple[str, dict[str, Any]]:
    if release_dir is None:
        return _warehouse_sql(data, redacted, exclude_contaminated)
    return _release_sql(data, release_dir)


def review_candidates(
    con: duckdb.DuckDBPyConnection,
    data: DataDir,
    *,
    sample_n: int,
    lane: str | None = None,
    seed: int = 0,
    release_dir: Path | None = None,
    redacted: Path | None = None,
    exclude_contaminated: bool = True,
) -> pd.DataFrame:
    """The sample to review: dedup survivors (or a release's rows), `sample_n` by seed.

    `redacted` (a table of `example_id`, `prompt`, `response` for rows whose text a later stage
    rewrote) makes the sheet show, and hash, the text that ships; default: the PII stage's.
    Contaminated rows are left out unless `exclude_contaminated` is False (for a use, such as
    eval, that the policy's `contamination.applies_to` does not list).
    """
    sql, params = _rows_sql(data, release_dir, redacted, exclude_contaminated)
    query = f"SELECT * FROM ({sql}) WHERE {_LANE} {_ORDER}"
    return con.execute(query, {**params, "lane": lane, "seed": seed, "n": sample_n}).df()


def row_hashes(
    con: duckdb.DuckDBPyConnection,
    data: DataDir,
    example_ids: Sequence[str],
    *,
    release_dir: Path | None = None,
    redacted: Path | None = None,
) -> dict[str, RowHashes]:
    """(prompt_hash, response_sha256) now, of those `example_ids` that still exist.

    A contaminated row still exists (an eval release may take it), so it is looked up too.
    """
    sql, params = _rows_sql(data, release_dir, redacted, exclude_contaminated=False)
    query = (
        f"SELECT example_id, prompt_hash, response_sha256 FROM ({sql}) "
        "WHERE example_id IN (SELECT unnest($ids))"
    )
    found = con.execute(query, {**params, "ids": list(example_ids)}).fetchall()
    return {example: (prompt, response) for example, prompt, response in found}
