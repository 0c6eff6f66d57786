"""The `gated` stage over Parquet, in bounded batches (Dagster-free).

Gating runs in two passes. Pass one measures and judges every sanitized row, batch by batch,
into a narrow verdict table. Pass two counts, over the narrow verdict columns, how many other
prompts share each normalized response (the soft duplicate signal), then streams the verdicts
again to add `curation_score`. `dedup_stage` then deduplicates the rows that passed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.curation.dedup import response_duplicate_counts
from born_assets.curation.gates import GATES_SCHEMA, GateEvaluator
from born_assets.curation.score import curation_scores
from born_assets.sanitize.stage import CARRIED_COLUMNS
from born_assets.schemas.curation import GatedRecord
from born_assets.schemas.fates import ExitRecord, exit_table
from born_assets.schemas.vocabulary import Fate, Stage
from born_assets.specs.policy import Policy
from born_assets.store.memo import (
    RowMemo,
    code_version,
    in_input_order,
    known_groups_narrow,
    remembered_stream,
)
from born_assets.store.parquet import SCRATCH_OPTIONS, ParquetSink, iter_parquet_batches

GATE_READ_COLUMNS = [*CARRIED_COLUMNS, "prompt", "response", "fence_parses", "messages", "tools"]
_ORIGIN_COLUMNS = [name for name in CARRIED_COLUMNS if name != "example_id"]
SAME_FAMILY = ["source_benchmark"]
"""A verdict is remembered for a row of the same example judged for the same family."""


@dataclass
class GateSummary:
    """Counts from one gating run."""

    rows_in: int = 0
    remembered: int = 0
    gated_out: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    soft: Counter[str] = field(default_factory=Counter)


def judge_batch(policy: Policy, batch: pa.RecordBatch) -> pa.Table:
    """Gate verdicts for one batch of sanitized rows, with their origin columns appended.

    A module-level function of picklable arguments, so it runs in worker processes.
    """
    table = pa.Table.from_batches([batch])
    judged = GateEvaluator(policy).evaluate(
        table.rename_columns(
            ["benchmark_family" if n == "source_benchmark" else n for n in table.column_names]
        )
    )
    for name in _ORIGIN_COLUMNS:
        judged = judged.append_column(name, table.column(name))
    return judged


def judge(
    inputs: Sequence[Path],
    policy: Policy,
    out_path: Path,
    batch_rows: int,
    summary: GateSummary,
    workers: int = 1,
    memo: RowMemo | None = None,
) -> None:
    """Pass one: write the verdicts of every sanitized row to `out_path`, batch by batch.

    Rows `memo` remembers (same example, same family; see `gate_memo`) keep their verdicts.
    """
    memo = memo if memo is not None else RowMemo(None, VERDICT_COLUMNS)
    writer = None

    def known(group: pa.Table) -> bool:
        return bool(np.all(memo.known_positions(group, SAME_FAMILY) >= 0))

    batches = known_groups_narrow(
        inputs, batch_rows, GATE_READ_COLUMNS, CARRIED_COLUMNS, known, "gates"
    )
    parts = remembered_stream(
        partial(judge_batch, policy), batches, memo, workers, same=SAME_FAMILY
    )
    try:
        for part in parts:
            remembered = _remembered_verdicts(part.known, part.remembered, part.computed.schema)
            judged = in_input_order(part.example_ids, [part.computed, remembered])
            summary.rows_in += judged.num_rows
            summary.remembered += remembered.num_rows
            if writer is None:
                writer = pq.ParquetWriter(out_path, judged.schema, **SCRATCH_OPTIONS)
            writer.write_table(judged)
    finally:
        if writer is not None:
            writer.close()


VERDICT_COLUMNS = [*GATES_SCHEMA.names, "source_benchmark"]
"""What the gated table remembers of a row: its verdicts, and the family they were judged for."""


def gate_versions(policy: Policy) -> dict[str, str]:
    """What gate verdicts depend on besides the row: the code and the policy."""
    return {"code": code_version(), "policy": policy.content_hash}


def _remembered_verdicts(inputs: pa.RecordBatch, verdicts: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = {name: verdicts.column(name) for name in GATES_SCHEMA.names if name != "example_id"}
    columns.update({name: inputs.column(name) for name in ["example_id", *_ORIGIN_COLUMNS]})
    return pa.table(columns).select(schema.names).cast(schema)


def score(
    verdicts_path: Path,
    policy: Policy,
    rows: ParquetSink,
    exits: ParquetSink,
    batch_rows: int,
    summary: GateSummary,
) -> None:
    """Pass two: add the response-duplicate count and `curation_score`; route gated-out rows."""
    keys = pq.read_table(verdicts_path, columns=["example_id", "prompt_hash", "response_norm_hash"])
    shared = response_duplicate_counts(keys)
    counts = dict(
        zip(
            shared.column("example_id").to_pylist(),
            shared.column("other_prompts_sharing_response").to_pylist(),
            strict=True,
        )
    )
    for batch in iter_parquet_batches([verdicts_path], batch_rows):
        table = pa.Table.from_batches([batch])
        others = pa.array([counts[i] for i in table.column("example_id").to_pylist()], pa.int64())
        table = table.append_column("other_prompts_sharing_response", others)
        table = table.append_column("curation_score", curation_scores(table, policy, others))
        table = table.append_column(
            "policy_sha256", pa.array([policy.content_hash] * table.num_rows, pa.string())
        )
        rows.write_batch(table)
        _route_gated_out(table, exits, summary)


def _route_gated_out(table: pa.Table, exits: ParquetSink, summary: GateSummary) -> None:
    reasons = pc.list_flatten(pc.split_pattern(table["soft_failure_reasons"], ","))
    count_values(summary.soft, reasons.filter(pc.not_equal(reasons, "")))
    out = table.filter(pc.fill_null(table["is_gated_out"], False))
    keys = ["origin_id", "gated_out_gate", "gated_out_reason"]
    for group in out.group_by(keys).aggregate([([], "count_all")]).to_pylist():
        summary.gated_out[tuple(group[key] for key in keys)] += group["count_all"]
    detail = pc.binary_join_element_wise(
        "gate=", out["gated_out_gate"], "; threshold=", out["gated_out_threshold"], ""
    )
    exits.extend(exit_table(out, Fate.GATED_OUT, Stage.GATE, out["gated_out_reason"], detail))


def count_values(counter: Counter[str], values: pa.Array | pa.ChunkedArray) -> None:
    """Add to `counter` how often each value occurs in `values`."""
    for item in pc.value_counts(values).to_pylist():
        counter[item["values"]] += item["counts"]


def gate(
    inputs: Sequence[Path],
    policy: Policy,
    out_dir: Path,
    batch_rows: int,
    workers: int = 1,
    memo: RowMemo | None = None,
) -> GateSummary:
    """Both passes: `rows.parquet` (every row, `GatedRecord`) and `exits.parquet` (gated out).

    Pass one runs on `workers` processes and takes what `memo` remembers; the output does not
    depend on either.
    """
    summary = GateSummary()
    scratch = out_dir / layout.SCRATCH_VERDICTS
    judge(inputs, policy, scratch, batch_rows, summary, workers, memo)
    with (
        ParquetSink(out_dir / layout.ROWS, GatedRecord, batch_rows) as rows,
        ParquetSink(out_dir / layout.EXITS, ExitRecord, batch_rows) as exits,
    ):
        if scratch.exists():
            score(scratch, policy, rows, exits, batch_rows, summary)
    scratch.unlink(missing_ok=True)
    return summary
