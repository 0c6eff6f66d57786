"""The `deduplicated` stage over Parquet (Dagster-free): exact, then near dedup.

The rows that passed the gates are ranked by `dedup.survivor_order`: exact prompt duplicates
leave first (`curation.dedup`), then near duplicates among the exact survivors
(`curation.near_dedup`). Survivors go to `rows.parquet`; every removed row is an exit with fate
`duplicate`, its reason (`DedupReason`) and the example_id of the row it duplicates as the
detail; near duplicates are also listed with their estimated similarity in
`near_duplicates.parquet`. An exact duplicate names its prompt's survivor even when that row
then leaves as a near duplicate: the chain ends in a kept row after at most two steps.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from born_assets import layout
from born_assets.curation.dedup import dedup_prompts
from born_assets.curation.near_dedup import NEAR_DECISIONS_SCHEMA, near_decisions, threshold_text
from born_assets.sanitize.stage import CARRIED_COLUMNS
from born_assets.schemas.curation import DeduplicatedRecord, NearDuplicateRecord
from born_assets.schemas.fates import ExitRecord, exit_row
from born_assets.schemas.reasons import DedupReason
from born_assets.schemas.vocabulary import Fate, OriginKind, Stage
from born_assets.specs.policy import Policy
from born_assets.store.memo import RowMemo
from born_assets.store.parquet import ParquetSink

_DEDUP_INPUT_SQL = """
SELECT g.example_id, g.prompt_hash, g.curation_score, g.origin_id AS generation_lane,
       s.generation_timestamp,
       CASE WHEN g.origin_kind = $lane THEN g.source_benchmark || ':' || s.source_id END AS task
FROM read_parquet($gated) AS g
JOIN (SELECT example_id, generation_timestamp, source_id FROM read_parquet($sources)) AS s
  ON g.example_id = s.example_id
WHERE NOT g.is_gated_out
ORDER BY g.example_id
"""


@dataclass
class DedupSummary:
    """Counts from one dedup run, and the seconds each half took."""

    rows_in: int = 0
    survivors: int = 0
    duplicates: Counter[str] = field(default_factory=Counter)
    near_duplicates: Counter[str] = field(default_factory=Counter)
    exact_seconds: float = 0.0
    near_seconds: float = 0.0
    signatures_remembered: int = 0
    """Near-dedup signatures taken from the last run instead of signed again."""


def _decide(keys: pa.Table, inputs: DedupInputs, summary: DedupSummary) -> pa.Table:
    """Exact decisions for every row, then near decisions for the exact survivors (one table)."""
    start = time.perf_counter()
    policy = inputs.policy
    decisions = dedup_prompts(keys, policy)
    summary.exact_seconds = time.perf_counter() - start
    start = time.perf_counter()
    kept = pc.invert(decisions.column("is_duplicate"))
    near = pa.table(
        {
            name: pa.nulls(decisions.num_rows, kind.type)
            for name, kind in zip(NEAR_DECISIONS_SCHEMA.names, NEAR_DECISIONS_SCHEMA, strict=True)
            if name != "example_id"
        }
    )
    if policy.near_dedup.enabled:
        found, summary.signatures_remembered = near_decisions(
            keys.filter(kept),
            [inputs.sanitized],
            policy,
            inputs.batch_rows,
            inputs.signatures,
            inputs.out_dir / layout.SIGNATURES,
            inputs.workers,
        )
        positions = np.flatnonzero(kept.to_numpy(zero_copy_only=False))
        near = pa.table(
            {
                name: _spread(found.column(name), positions, decisions.num_rows)
                for name in near.column_names
            }
        )
    summary.near_seconds = time.perf_counter() - start
    for name in near.column_names:
        decisions = decisions.append_column(name, near.column(name))
    return decisions


def _spread(values: pa.ChunkedArray, positions: npt.NDArray[np.int64], size: int) -> pa.Array:
    """`values` placed at `positions` of an array of `size` nulls."""
    indices = np.full(size, -1, dtype=np.int64)
    indices[positions] = np.arange(len(positions))
    return values.take(pa.array(indices, mask=indices < 0))


def deduplicate(
    con: duckdb.DuckDBPyConnection,
    gated_path: Path,
    source_rows: list[Path],
    inputs: DedupInputs,
) -> DedupSummary:
    """Exact, then near dedup of the rows that passed the gates.

    Survivors go to `rows.parquet`, the removed rows to the exits (reason `duplicate_prompt` or
    `near_duplicate`, detail the survivor), near duplicates also to `near_duplicates.parquet`.
    """
    params: dict[str, Any] = {
        "gated": gated_path.as_posix(),
        "sources": [p.as_posix() for p in source_rows],
        "lane": OriginKind.LANE.value,
    }
    keys = con.sql(_DEDUP_INPUT_SQL, params=params).to_arrow_table()
    summary = DedupSummary(rows_in=keys.num_rows)
    decisions = _decide(keys, inputs, summary)
    con.register("decisions", decisions)
    try:
        # Column names come from the schemas, never from data.
        selected = [f"g.{c}" for c in _DECISION_COLUMNS] + [f"d.{c}" for c in _DECISIONS]
        joined = con.execute(
            f"SELECT {', '.join(selected)} FROM read_parquet($gated) AS g "
            "JOIN decisions AS d ON g.example_id = d.example_id ORDER BY g.example_id",
            {"gated": gated_path.as_posix()},
        )
        _route(joined, inputs, summary)
    finally:
        con.unregister("decisions")
    return summary


@dataclass(frozen=True)
class DedupInputs:
    """What dedup reads besides the gated rows, and where it writes."""

    sanitized: Path
    policy: Policy
    out_dir: Path
    batch_rows: int
    signatures: RowMemo
    """The last run's near-dedup signatures (`near_dedup.SIGNATURE_COLUMNS`)."""
    workers: int = 1


def _route(joined: duckdb.DuckDBPyConnection, inputs: DedupInputs, summary: DedupSummary) -> None:
    threshold = threshold_text(inputs.policy)
    out, batch_rows = inputs.out_dir, inputs.batch_rows
    with (
        ParquetSink(out / layout.ROWS, DeduplicatedRecord, batch_rows) as rows,
        ParquetSink(out / layout.EXITS, ExitRecord, batch_rows) as exits,
        ParquetSink(out / layout.NEAR_DUPLICATES, NearDuplicateRecord, batch_rows) as near,
    ):
        while batch := joined.fetchmany(batch_rows):
            for values in batch:
                row = dict(zip([*_DECISION_COLUMNS, *_DECISIONS], values, strict=True))
                _route_decision(row, Sinks(rows, exits, near), summary, threshold)


_DECISION_COLUMNS = [*CARRIED_COLUMNS, "curation_score"]
_DECISIONS = [
    "is_duplicate",
    "duplicate_of",
    "duplicate_group_size",
    "near_duplicate_of",
    "estimated_similarity",
    "near_duplicate_count",
]


@dataclass(frozen=True)
class Sinks:
    """The three tables dedup writes."""

    rows: ParquetSink
    exits: ParquetSink
    near: ParquetSink


def _route_decision(
    row: dict[str, Any], sinks: Sinks, summary: DedupSummary, threshold: str
) -> None:
    if row["is_duplicate"]:
        summary.duplicates[row["origin_id"]] += 1
        sinks.exits.append(
            exit_row(
                row, Fate.DUPLICATE, Stage.DEDUP, DedupReason.DUPLICATE_PROMPT, row["duplicate_of"]
            )
        )
        return
    survivor = row["near_duplicate_of"]
    if survivor is not None:
        summary.near_duplicates[row["origin_id"]] += 1
        sinks.exits.append(
            exit_row(row, Fate.DUPLICATE, Stage.DEDUP, DedupReason.NEAR_DUPLICATE, survivor)
        )
        sinks.near.append(
            {
                "example_id": row["example_id"],
                "origin_id": row["origin_id"],
                "duplicate_of": survivor,
                "estimated_similarity": row["estimated_similarity"],
                "threshold": threshold,
            }
        )
        return
    summary.survivors += 1
    sinks.rows.append(
        {
            **{k: row[k] for k in DEDUPLICATED_COLUMNS},
            "near_duplicate_count": row["near_duplicate_count"] or 0,
        }
    )


DEDUPLICATED_COLUMNS = [*_DECISION_COLUMNS, "duplicate_group_size"]


_ORPHANS_SQL = """
SELECT e.example_id, e.reason, e.detail
FROM read_parquet($exits) AS e
LEFT JOIN read_parquet($rows) AS r ON e.detail = r.example_id
LEFT JOIN read_parquet($gated) AS g ON e.example_id = g.example_id
LEFT JOIN read_parquet($gated) AS named ON e.detail = named.example_id
LEFT JOIN read_parquet($near) AS n ON e.example_id = n.example_id
LEFT JOIN read_parquet($near) AS via ON e.reason = $exact AND e.detail = via.example_id
LEFT JOIN read_parquet($rows) AS final ON via.duplicate_of = final.example_id
WHERE (r.example_id IS NULL AND final.example_id IS NULL)
   OR (e.reason = $exact AND named.prompt_hash IS DISTINCT FROM g.prompt_hash)
   OR (e.reason = $near_reason AND (r.example_id IS NULL
                                    OR n.duplicate_of IS DISTINCT FROM e.detail
                                    OR n.estimated_similarity < $threshold))
   OR e.reason NOT IN ($exact, $near_reason)
ORDER BY e.example_id
"""


def duplicates_without_survivor(
    con: duckdb.DuckDBPyConnection, folder: Path, gated: Path, policy: Policy
) -> list[tuple[str, str, str]]:
    """Removed rows whose survivor is not kept, or does not match them.

    An exact duplicate must share the prompt hash of the row it names, and that row is kept or
    is itself a near duplicate of a kept row (exact dedup runs first: the prompt's survivor may
    then leave as a near duplicate, taking its exact twins' chain one step further). A near
    duplicate must name a kept row, be listed in `near_duplicates.parquet` with it and a
    similarity >= `near_dedup.threshold`.
    Returns `(example_id, reason, detail)` of each offender.
    """
    rows = con.execute(
        _ORPHANS_SQL,
        {
            "exits": (folder / layout.EXITS).as_posix(),
            "rows": (folder / layout.ROWS).as_posix(),
            "gated": gated.as_posix(),
            "near": (folder / layout.NEAR_DUPLICATES).as_posix(),
            "exact": DedupReason.DUPLICATE_PROMPT.value,
            "near_reason": DedupReason.NEAR_DUPLICATE.value,
            "threshold": policy.near_dedup.threshold,
        },
    ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]
