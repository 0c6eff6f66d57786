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

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from born_assets import layout
from born_assets.curation.dedup import write_prompt_decisions
from born_assets.curation.near_dedup import NEAR_DECISIONS_SCHEMA, near_decisions, threshold_text
from born_assets.curation.stage import count_values
from born_assets.sanitize.stage import CARRIED_COLUMNS
from born_assets.schemas.curation import DeduplicatedRecord, NearDuplicateRecord
from born_assets.schemas.fates import ExitRecord, exit_table
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
"""
_NEAR_VIEW = "_born_near_decisions"
_SURVIVORS_SQL = """
SELECT example_id, survivor_rank, task FROM read_parquet($exact)
WHERE NOT is_duplicate ORDER BY example_id
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


def _near(
    con: duckdb.DuckDBPyConnection, exact: Path, inputs: DedupInputs, summary: DedupSummary
) -> pa.Table:
    """Near decisions for the exact survivors that have one (a duplicate, or a count above 0)."""
    if not inputs.policy.near_dedup.enabled:
        return NEAR_DECISIONS_SCHEMA.empty_table()
    ranked = con.sql(_SURVIVORS_SQL, params={"exact": exact.as_posix()}).to_arrow_table()
    found, summary.signatures_remembered = near_decisions(
        ranked,
        [inputs.sanitized],
        inputs.policy,
        inputs.batch_rows,
        inputs.signatures,
        inputs.out_dir / layout.SIGNATURES,
        inputs.workers,
    )
    decided = pc.or_(
        pc.is_valid(found.column("near_duplicate_of")),
        pc.greater(found.column("near_duplicate_count"), 0),
    )
    return found.filter(decided)


def deduplicate(
    con: duckdb.DuckDBPyConnection,
    gated_path: Path,
    source_rows: list[Path],
    inputs: DedupInputs,
) -> DedupSummary:
    """Exact, then near dedup of the rows that passed the gates.

    Survivors go to `rows.parquet`, the removed rows to the exits (reason `duplicate_prompt` or
    `near_duplicate`, detail the survivor), near duplicates also to `near_duplicates.parquet`.
    The exact decisions go through a Parquet file in the staging folder (removed before it is
    published); memory holds only the exact survivors' ids and ranks while near-dedup runs.
    """
    params: dict[str, Any] = {
        "gated": gated_path.as_posix(),
        "sources": [p.as_posix() for p in source_rows],
        "lane": OriginKind.LANE.value,
    }
    summary = DedupSummary()
    with tempfile.TemporaryDirectory(prefix=layout.SCRATCH_DEDUP, dir=inputs.out_dir) as scratch:
        exact = Path(scratch) / layout.SCRATCH_EXACT
        start = time.perf_counter()
        keys = con.sql(_DEDUP_INPUT_SQL, params=params)
        summary.rows_in = write_prompt_decisions(con, keys, inputs.policy, exact, ["task"])
        summary.exact_seconds = time.perf_counter() - start
        start = time.perf_counter()
        near = _near(con, exact, inputs, summary)
        summary.near_seconds = time.perf_counter() - start
        con.register(_NEAR_VIEW, near)
        try:
            # Column names come from the schemas, never from data.
            selected = [f"g.{c}" for c in _DECISION_COLUMNS]
            selected += [f"e.{c}" for c in _EXACT_DECISIONS]
            selected += [f"n.{c}" for c in _NEAR_DECISIONS]
            joined = con.sql(
                f"SELECT {', '.join(selected)} FROM read_parquet($gated) AS g "
                "JOIN read_parquet($exact) AS e ON g.example_id = e.example_id "
                f"LEFT JOIN {_NEAR_VIEW} AS n ON g.example_id = n.example_id "
                "ORDER BY g.example_id",
                params={"gated": gated_path.as_posix(), "exact": exact.as_posix()},
            )
            _route(joined, inputs, summary)
        finally:
            con.unregister(_NEAR_VIEW)
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


def _route(joined: duckdb.DuckDBPyRelation, inputs: DedupInputs, summary: DedupSummary) -> None:
    threshold = threshold_text(inputs.policy)
    out, batch_rows = inputs.out_dir, inputs.batch_rows
    with (
        ParquetSink(out / layout.ROWS, DeduplicatedRecord, batch_rows) as rows,
        ParquetSink(out / layout.EXITS, ExitRecord, batch_rows) as exits,
        ParquetSink(out / layout.NEAR_DUPLICATES, NearDuplicateRecord, batch_rows) as near,
    ):
        sinks = Sinks(rows, exits, near)
        for batch in joined.to_arrow_reader(batch_rows):
            _route_batch(pa.Table.from_batches([batch]), sinks, summary, threshold)


_DECISION_COLUMNS = [*CARRIED_COLUMNS, "curation_score"]
_EXACT_DECISIONS = ["is_duplicate", "duplicate_of", "duplicate_group_size"]
_NEAR_DECISIONS = ["near_duplicate_of", "estimated_similarity", "near_duplicate_count"]


@dataclass(frozen=True)
class Sinks:
    """The three tables dedup writes."""

    rows: ParquetSink
    exits: ParquetSink
    near: ParquetSink


def _route_batch(table: pa.Table, sinks: Sinks, summary: DedupSummary, threshold: str) -> None:
    """Each row of a batch of decisions to its table, in order: kept, or an exit (and near)."""
    exact = pc.fill_null(table["is_duplicate"], False)
    near = pc.and_not(pc.is_valid(table["near_duplicate_of"]), exact)
    leaves = pc.or_(exact, near)
    removed, is_exact = table.filter(leaves), exact.filter(leaves)
    reason = pc.if_else(
        is_exact, DedupReason.DUPLICATE_PROMPT.value, DedupReason.NEAR_DUPLICATE.value
    )
    detail = pc.if_else(is_exact, removed["duplicate_of"], removed["near_duplicate_of"])
    sinks.exits.extend(exit_table(removed, Fate.DUPLICATE, Stage.DEDUP, reason, detail))
    near_rows = table.filter(near)
    sinks.near.extend(
        pa.table(
            {
                "example_id": near_rows["example_id"],
                "origin_id": near_rows["origin_id"],
                "duplicate_of": near_rows["near_duplicate_of"],
                "estimated_similarity": near_rows["estimated_similarity"],
                "threshold": pa.repeat(threshold, near_rows.num_rows),
            }
        )
    )
    kept = table.filter(pc.invert(leaves))
    count = pc.fill_null(kept["near_duplicate_count"], 0)
    sinks.rows.extend(
        kept.select(DEDUPLICATED_COLUMNS).append_column("near_duplicate_count", count)
    )
    count_values(summary.duplicates, table.filter(exact)["origin_id"])
    count_values(summary.near_duplicates, near_rows["origin_id"])
    summary.survivors += kept.num_rows


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
