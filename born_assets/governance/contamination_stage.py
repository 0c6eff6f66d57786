"""The `contamination` stage over Parquet (Dagster-free): candidates in, verdicts and exits out.

Candidates are the rows that survived dedup, with their sanitized text (what would be released)
and the source's task id and generator. Rows found contaminated leave with the fate
`contaminated`, naming the method and the eval item.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.governance.contamination import (
    CHECK_MEMO_COLUMNS,
    TEXTS_READ,
    CheckMemo,
    stream_contamination,
)
from born_assets.governance.contamination_report import GeneratorOverlap
from born_assets.schemas.fates import ExitRecord
from born_assets.schemas.governance import (
    ContaminationCheckRecord,
    ContaminationMatchRecord,
    ContaminationNearestRecord,
    ContaminationReportRecord,
    ContaminationVerdictRecord,
)
from born_assets.schemas.vocabulary import Fate, Stage
from born_assets.specs.evals import EvalSet
from born_assets.specs.policy import ContaminationPolicy
from born_assets.store.memo import RowMemo, code_version, is_whole_parquet
from born_assets.store.parquet import ParquetSink, parquet_reader
from born_assets.store.progress import Progress, counted
from born_assets.store.texts import merge_sorted, with_texts, write_sorted
from born_assets.text.minhash import MinHashParams


def contamination_versions(
    policy: ContaminationPolicy, eval_sets: Sequence[EvalSet], similarity: MinHashParams
) -> dict[str, str]:
    """What a row's checks depend on besides the row: the code, the policy, the eval sets."""
    settings = json.dumps(
        {**policy.model_dump(mode="json"), "similarity": asdict(similarity)}, sort_keys=True
    )
    evals = sorted((e.eval_id, e.content_hash, e.data_sha256) for e in eval_sets)
    return {
        "code": code_version(),
        "contamination_policy": hashlib.sha256(settings.encode()).hexdigest(),
        "eval_sets": hashlib.sha256(json.dumps(evals).encode()).hexdigest(),
    }


TEXTS = ("prompt", "response")
"""What contamination compares of a candidate, taken from the sanitized rows."""
_CANDIDATES_SQL = """
SELECT d.example_id, d.origin_id, d.source_benchmark, src.source_id, src.generator_model
FROM read_parquet($deduplicated) AS d
JOIN read_parquet($sources, union_by_name = true) AS src ON src.example_id = d.example_id
"""
"""The candidates without their texts: `store.texts` sorts them and brings prompt and response."""

_EXITS_SQL = """
SELECT v.example_id, d.origin_kind, d.origin_id, d.source_file, d.source_line,
       $fate AS fate, $stage AS stage, v.method AS reason,
       v.eval_id || '/' || v.eval_item_id || coalesce(' (' || v.eval_field || ')', '') AS detail
FROM read_parquet($verdicts) AS v
JOIN read_parquet($deduplicated) AS d ON d.example_id = v.example_id
WHERE v.is_contaminated
ORDER BY v.example_id
"""


_MEMO_AGREES = """
    m.example_id = c.example_id
    AND m.source_benchmark IS NOT DISTINCT FROM c.source_benchmark
    AND m.generator_model IS NOT DISTINCT FROM c.generator_model
"""
"""A candidate whose check the memo (`checks.parquet`, as `m`) holds: `CheckMemo`'s rule."""
_KNOWN_SQL = f"""
SELECT c.* FROM ({_CANDIDATES_SQL}) AS c
WHERE EXISTS (SELECT 1 FROM read_parquet($memo) AS m WHERE {_MEMO_AGREES})
"""
_FRESH_SQL = f"""
SELECT c.* FROM ({_CANDIDATES_SQL}) AS c
WHERE NOT EXISTS (SELECT 1 FROM read_parquet($memo) AS m WHERE {_MEMO_AGREES})
"""
_NEAREST_GONE_SQL = f"""
SELECT count(*) FROM read_parquet($nearest) AS n
WHERE NOT EXISTS (
    SELECT 1 FROM ({_KNOWN_SQL}) AS k
    WHERE k.example_id = n.example_id AND k.origin_id = n.origin_id
)
"""
"""Rows of the last run's nearest table that are not known candidates of this run."""


def _nearest_seed(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any], remembered: RowMemo
) -> pa.Table | None:
    """The last run's nearest rows, if this run's list is that list merged with the new rows.

    That holds when every row listed is still a candidate that the memo knows: a row that left
    could have kept out of the list a remembered row whose similarity was not measured again.
    """
    if remembered.path is None:
        return None
    nearest = remembered.path.parent / layout.NEAREST
    if not is_whole_parquet(nearest):
        return None
    query = {**params, "memo": remembered.path.as_posix(), "nearest": nearest.as_posix()}
    ((gone,),) = con.execute(_NEAREST_GONE_SQL, query).fetchall()
    return pq.read_table(nearest) if gone == 0 else None


def _known_and_fresh(
    con: duckdb.DuckDBPyConnection,
    params: dict[str, Any],
    memo: Path,
    sanitized: Path,
    scratch: Path,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    """Every candidate sorted by id: the texts of the new ones, none for those the memo knows.

    `TEXTS_READ` says which is which; only the new rows' texts are read from `sanitized`.
    """
    query = {**params, "memo": memo.as_posix()}
    known_path = scratch / layout.SCRATCH_KNOWN
    write_sorted(con, _KNOWN_SQL, query, known_path, batch_rows)
    known_schema = pq.read_schema(known_path)
    texts = pq.read_schema(sanitized)
    schema = pa.schema(
        [
            *known_schema,
            *(texts.field(name).with_nullable(True) for name in TEXTS),
            pa.field(TEXTS_READ, pa.bool_()),
        ]
    )

    def shaped(batch: pa.RecordBatch, read: bool) -> pa.RecordBatch:
        columns = {name: batch.column(name) for name in batch.schema.names}
        for name in TEXTS:
            columns.setdefault(name, pa.nulls(batch.num_rows, schema.field(name).type))
        columns[TEXTS_READ] = pa.array([read] * batch.num_rows, pa.bool_())
        return pa.RecordBatch.from_pydict(columns).select(schema.names).cast(schema)

    fresh = with_texts(con, _FRESH_SQL, query, sanitized, TEXTS, scratch, batch_rows)
    known = parquet_reader(known_path).iter_batches(batch_rows)
    yield from merge_sorted(
        (shaped(batch, False) for batch in known), (shaped(batch, True) for batch in fresh),
        batch_rows,
    )  # fmt: skip


def check_candidates(
    con: duckdb.DuckDBPyConnection,
    *,
    deduplicated: Path,
    sanitized: Path,
    sources: Sequence[Path],
    eval_sets: Sequence[EvalSet],
    policy: ContaminationPolicy,
    similarity: MinHashParams,
    out_dir: Path,
    batch_rows: int,
    remembered: RowMemo | None = None,
    workers: int = 1,
) -> tuple[dict[str, int], list[GeneratorOverlap], int]:
    """Write verdicts, matches, the report and exits.

    Returns exclusions by method, generator overlaps, and how many rows were remembered.

    Rows `remembered` (the last run's `checks.parquet`, see `contamination_versions`) knows are
    not checked again; every row's check goes to this run's `checks.parquet`. When the last run's
    nearest table can be carried forward (`_nearest_seed`), their texts are not even read, and
    their similarities to the eval texts are not measured again. `workers` processes measure and
    check the batches.
    """
    remembered = remembered if remembered is not None else RowMemo(None, CHECK_MEMO_COLUMNS)
    params: dict[str, Any] = {
        "deduplicated": deduplicated.as_posix(),
        "sources": [p.as_posix() for p in sources],
    }
    with (
        tempfile.TemporaryDirectory(prefix=layout.SCRATCH_TEXTS, dir=out_dir) as scratch,
        ParquetSink(out_dir / layout.ROWS, ContaminationVerdictRecord, batch_rows) as verdicts,
        ParquetSink(out_dir / layout.MATCHES, ContaminationMatchRecord, batch_rows) as matches,
        ParquetSink(out_dir / layout.CHECKS, ContaminationCheckRecord, batch_rows) as checks,
    ):
        memo = CheckMemo(remembered, checks)
        seed = _nearest_seed(con, params, remembered)
        if seed is not None and remembered.path is not None:
            reader = _known_and_fresh(
                con, params, remembered.path, sanitized, Path(scratch), batch_rows
            )
        else:
            reader = with_texts(
                con, _CANDIDATES_SQL, params, sanitized, TEXTS, Path(scratch), batch_rows
            )
        batches = counted(reader, Progress("contamination", None))
        summary = stream_contamination(
            batches, eval_sets, policy, verdicts, matches, memo, similarity, seed, workers
        )
    with ParquetSink(out_dir / layout.REPORT, ContaminationReportRecord, batch_rows) as report:
        report.write_batch(summary.report)
    with ParquetSink(out_dir / layout.NEAREST, ContaminationNearestRecord, batch_rows) as nearest:
        nearest.write_batch(summary.nearest)
    exits = con.sql(
        _EXITS_SQL,
        params={
            "verdicts": (out_dir / layout.ROWS).as_posix(),
            "deduplicated": deduplicated.as_posix(),
            "fate": Fate.CONTAMINATED.value,
            "stage": Stage.GOVERNANCE.value,
        },
    ).to_arrow_reader(batch_rows)
    with ParquetSink(out_dir / layout.EXITS, ExitRecord, batch_rows) as sink:
        for batch in exits:
            sink.write_batch(batch)
    excluded = {str(method): n for method, n in summary.excluded_by_method.items()}
    return excluded, summary.generator_overlaps, memo.rows_remembered


def report_rows(folder: Path) -> list[dict[str, Any]]:
    """The per eval set x source report as plain rows (top matches decoded)."""
    rows = pq.read_table(folder / layout.REPORT).to_pylist()
    for row in rows:
        row["top_matches"] = json.loads(row["top_matches"])
    return rows


def nearest_rows(folder: Path) -> list[dict[str, Any]]:
    """Each eval text's nearest training rows (empty for a report built before they existed)."""
    path = folder / layout.NEAREST
    return pq.read_table(path).to_pylist() if path.exists() else []


def format_nearest(rows: Sequence[dict[str, Any]], limit: int = 10) -> str:
    """The `limit` closest (eval text, training row) pairs, for `born contamination`."""
    closest = sorted(rows, key=lambda r: (-r["similarity"], r["eval_id"], r["eval_item_id"]))
    lines = [
        f"closest training rows to eval texts (MinHash similarity of the prompt, top {limit}):"
    ]
    for row in closest[:limit]:
        blocked = "  BLOCKED" if row["is_blocked"] else ""
        lines.append(
            f"    {row['similarity']:.3f}  {row['eval_id']}/{row['eval_item_id']} "
            f"({row['eval_field']}) ~ {row['example_id']} ({row['origin_id']}){blocked}"
        )
    return "\n".join(lines)


def format_report(rows: Sequence[dict[str, Any]]) -> str:
    """The report as text for `born contamination`."""
    if not rows:
        return "no eval sets registered (data/evals/*.yaml)"
    lines = [f"{'eval set':<14} {'source':<28} {'checked':>8} {'excluded':>9} {'max overlap':>12}"]
    for row in rows:
        lines.append(
            f"{row['eval_id']:<14} {row['origin_id']:<28} {row['rows_checked']:>8} "
            f"{row['rows_excluded']:>9} {row['max_overlap_fraction']:>12.3f}"
        )
        for match in row["top_matches"][:3]:
            lines.append(
                f"    {match['example_id']} ~ {match['eval_item_id']} "
                f"({match['method']}, {match.get('eval_field') or '-'}, "
                f"overlap {match.get('overlap_fraction') or 0:.2f})"
            )
    return "\n".join(lines)
