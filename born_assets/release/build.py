"""Building a release folder from the warehouse: rows, fates, transparency, card, release.json.

Everything written here is a function of the inputs only (rows sorted by source, shard set
and `example_id`, fixed Parquet writer settings, no wall-clock time), so two builds of the same
inputs are byte-identical. The build time goes into `release.json` alone, which is not among the
hashed files.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.execution.observed import annotate, observed_sql
from born_assets.layout import ReleaseDir
from born_assets.release.info import ColumnInfo
from born_assets.release.source_shards import ShardCache, ShardSet, set_positions, shard_sets
from born_assets.release.texts import REDACTION, TEXT_COLUMNS, with_release_texts
from born_assets.review.rules import (
    NO_REVIEWS_SQL,
    REVIEW_BLOCK_SQL,
    REVIEW_COLUMNS_SQL,
    review_join_sql,
)
from born_assets.schemas.derive import arrow_schema, column_docs
from born_assets.schemas.fates import ExitRecord
from born_assets.schemas.identity import canonical_json, sha256_hex
from born_assets.schemas.release import ReleaseRecord
from born_assets.schemas.vocabulary import Fate, Stage
from born_assets.store.fates import fate_counts, write_row_fates
from born_assets.store.parallel import ordered_thread_map, read_ahead
from born_assets.store.parquet import (
    SCRATCH_OPTIONS,
    WRITER_OPTIONS,
    ParquetSink,
    parquet_reader,
)
from born_assets.store.progress import Progress, counted
from born_assets.store.row_groups import GroupWriter, encode_group
from born_assets.store.texts import sorted_parts, write_sorted

ROW_GROUP_ROWS = 10_000
"""Rows per row group of the release's tables without texts, and most rows in a shard's group."""
ROW_GROUP_TEXT_BYTES = 16 * 1024 * 1024
"""Text a shard's row group holds, on average: the build holds a few groups' copies at a time
(joined, annotated, encoded), so the groups are cut by text size, not by a row count alone."""
NOT_EXCLUDED_SQL = (
    "d.example_id NOT IN (SELECT example_id FROM read_parquet($excluded, union_by_name = true))"
)
"""True for a dedup survivor (`d`) that no exit in `$excluded` (a list of Parquet files) names."""
_SHIPPED_HASHES_SQL = """
SELECT s.example_id, coalesce(sha256(r.response), s.response_sha256) AS response_sha256
FROM read_parquet($sanitized) AS s
LEFT JOIN read_parquet($redacted) AS r ON r.example_id = s.example_id
"""
SHIPPED_JOIN_SQL = "JOIN read_parquet($shipped) AS h ON h.example_id = d.example_id"
"""Joins `h`: each dedup survivor's (`d`) SHA-256 of its response as it ships (redacted if it
was), from the file `write_shipped_hashes` wrote, so no text is carried through the joins."""


@dataclass(frozen=True)
class ReviewInputs:
    """The human review table and the release uses that require an approving review."""

    table: Path | None = None  # folder of the `human_reviews` asset; None: no reviews
    required_for: tuple[str, ...] = ()  # policy `review.required_for`


@dataclass(frozen=True)
class WarehouseInputs:
    """The warehouse tables a release reads."""

    source_dirs: tuple[Path, ...]  # one folder per lane and import (rows, quarantine, files)
    sanitized: Path  # folder
    gated: Path  # folder
    deduplicated: Path  # folder
    contamination: Path  # folder
    pii: Path  # folder
    executed: Path  # folder
    review: ReviewInputs = ReviewInputs()
    contamination_applies: bool = True  # policy contamination.applies_to lists the use

    def review_join(self) -> str:
        """LEFT JOIN of the review table (`hr`) on the text as it ships (`SHIPPED_JOIN_SQL`)."""
        return review_join_sql(
            "read_parquet($reviews)" if self.review.table else NO_REVIEWS_SQL,
            example_id="d.example_id",
            prompt_hash="src.prompt_hash",
            response_sha256="h.response_sha256",
        )

    def exit_tables(self) -> list[Path]:
        """Exits of every stage after ingest (contamination only where it applies to the use)."""
        before = [self.sanitized, self.gated, self.deduplicated]
        return [*(folder / layout.EXITS for folder in before), *self.after_dedup_exits()]

    def after_dedup_exits(self) -> list[Path]:
        """The exits after dedup a release honours, besides its own.

        Contamination where it applies to the release's use, and the rows the executed stage
        gated out (their tests failed where the policy requires a pass).
        """
        contamination = [self.contamination / layout.EXITS] if self.contamination_applies else []
        return [*contamination, self.executed / layout.EXITS]


def _release_rows_sql(inputs: WarehouseInputs) -> str:
    """Released rows without their texts: clean dedup survivors whose use limits allow `$use`.

    The texts (prompt, response, messages, tools, post_processing) are joined afterwards, in
    bounded memory (`release.texts`); `redaction` is the PII step's transform record, if any.
    """
    columns = ", ".join(f"src.{c}" for c in arrow_schema(ReleaseRecord).names if c not in _REPLACED)
    return f"""
        SELECT {columns},
               'closure' AS response_format,
               round(g.curation_score * x.score_factor, 6) AS curation_score,
               x.execution_status, x.tests_passed, x.tests_total,
               x.isolation AS execution_isolation, {observed_sql()},
               p.redaction AS {REDACTION},
               p.contains_real_pii AS contains_real_pii,
               p.pii_scan_status AS pii_scan_status,
               {REVIEW_COLUMNS_SQL}
        FROM read_parquet($deduplicated) AS d
        {SHIPPED_JOIN_SQL}
        JOIN read_parquet($gated) AS g ON g.example_id = d.example_id
        JOIN read_parquet($pii) AS p ON p.example_id = d.example_id
        JOIN read_parquet($sources, union_by_name = true) AS src ON src.example_id = d.example_id
        JOIN read_parquet($executed) AS x ON x.example_id = d.example_id
        {inputs.review_join()}
        WHERE NOT {use_blocked_sql("src")} AND ({REVIEW_BLOCK_SQL}) IS NULL
          AND {NOT_EXCLUDED_SQL} AND list_contains(CAST($licenses AS VARCHAR[]), src.license)
    """


_REPLACED = {
    "prompt",
    "response",
    "messages",
    "tools",
    "response_format",
    "curation_score",
    "post_processing",
    "contains_real_pii",
    "pii_scan_status",
    "human_review_status",
    "reviewer_id",
    "reviewed_at",
    "execution_status",
    "tests_passed",
    "tests_total",
    "execution_isolation",
}


def use_blocked_sql(alias: str) -> str:
    """SQL that is true when a row (`alias`) may not be used for `$use`: the one use-limit rule.

    A row serves only its `intended_use`, never a use its `prohibited_use` lists, and a row with
    `eval_exclusion` never enters an evaluation release.
    """
    return (
        f"({alias}.intended_use <> $use OR "
        f"list_contains(from_json({alias}.prohibited_use, '[\"VARCHAR\"]'), $use) OR "
        f"($use = 'eval' AND {alias}.eval_exclusion))"
    )


def _withheld_sql(inputs: WarehouseInputs) -> str:
    """Clean dedup survivors this release keeps out: a use limit first, else a review verdict."""
    return f"""
    SELECT src.example_id, src.origin_kind, src.origin_id, src.source_file, src.source_line,
           $fate AS fate, $stage AS stage,
           CASE WHEN src.intended_use <> $use THEN 'intended_use_' || src.intended_use
                WHEN list_contains(from_json(src.prohibited_use, '["VARCHAR"]'), $use)
                THEN 'prohibited_use_' || $use
                WHEN {use_blocked_sql("src")} THEN 'eval_exclusion'
                ELSE {REVIEW_BLOCK_SQL} END AS reason,
           CASE WHEN {use_blocked_sql("src")} THEN 'release use: ' || $use
                ELSE 'release use: ' || $use || '; review: '
                     || coalesce(hr.human_review_status, 'unreviewed')
                     || coalesce(' by ' || hr.reviewer_id, '') END AS detail
    FROM read_parquet($deduplicated) AS d
    JOIN read_parquet($sources, union_by_name = true) AS src ON src.example_id = d.example_id
    {SHIPPED_JOIN_SQL}
    {inputs.review_join()}
    WHERE ({use_blocked_sql("src")} OR ({REVIEW_BLOCK_SQL}) IS NOT NULL)
      AND {NOT_EXCLUDED_SQL}
    """


def write_shipped_hashes(
    con: duckdb.DuckDBPyConnection, inputs: WarehouseInputs, out: Path
) -> None:
    """Write each sanitized row's SHA-256 of its response as it ships, for `SHIPPED_JOIN_SQL`.

    Taken once per cut from the sanitized rows' `response_sha256`, or hashed from the PII step's
    redacted response where there is one (the only texts read; hashing every response took ~3 s
    at 100k rows), then joined by the queries of the withheld rows and of every config's shards.
    """
    params = {
        "sanitized": (inputs.sanitized / layout.ROWS).as_posix(),
        "redacted": (inputs.pii / layout.REDACTED).as_posix(),
        "out": out.as_posix(),
    }
    con.execute(f"COPY ({_SHIPPED_HASHES_SQL}) TO $out (FORMAT parquet)", params)


def _params(
    inputs: WarehouseInputs, use: str, excluded: Sequence[Path], shipped: Path
) -> dict[str, Any]:
    return {
        "deduplicated": (inputs.deduplicated / layout.ROWS).as_posix(),
        "shipped": shipped.as_posix(),
        "gated": (inputs.gated / layout.ROWS).as_posix(),
        "sources": [(d / layout.ROWS).as_posix() for d in inputs.source_dirs],
        "excluded": [p.as_posix() for p in excluded],
        "pii": (inputs.pii / layout.ROWS).as_posix(),
        "executed": (inputs.executed / layout.ROWS).as_posix(),
        "use": use,
        "review_required_for": list(inputs.review.required_for),
        **(
            {"reviews": (inputs.review.table / layout.ROWS).as_posix()}
            if inputs.review.table
            else {}
        ),
    }


def write_withheld(
    con: duckdb.DuckDBPyConnection,
    inputs: WarehouseInputs,
    use: str,
    out: Path,
    excluded: Sequence[Path],
    shipped: Path,
) -> None:
    """Exits for the rows this release keeps out because of their use limits or reviews.

    `excluded` holds the exits of rows an earlier rule removed (they are not judged again);
    `shipped` is the file `write_shipped_hashes` wrote.
    """
    wanted = {"deduplicated", "sources", "excluded", "use", "shipped"}
    wanted |= {"review_required_for", "reviews"}
    params = {k: v for k, v in _params(inputs, use, excluded, shipped).items() if k in wanted}
    params.update(fate=Fate.WITHHELD.value, stage=Stage.RELEASE.value)
    write_sorted_exits(con, _withheld_sql(inputs), params, out)


def write_sorted_exits(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: dict[str, Any],
    out: Path,
    batch_rows: int = ROW_GROUP_ROWS,
) -> None:
    """Write the exits `query` selects (`ExitRecord` columns) to `out`, sorted by `example_id`.

    Sorted a range of ids at a time after the query's joins (`store.texts.sorted_parts`), never
    inside them: a release for another use withholds every row, as many as a release holds.
    """
    unsorted = out.with_name(f".{out.name}.unsorted")
    with ParquetSink(out, ExitRecord, batch_rows) as sink:
        for reader in sorted_parts(con, query, params, unsorted, batch_rows):
            for batch in reader:
                sink.write_batch(batch)


def write_shards(
    con: duckdb.DuckDBPyConnection,
    inputs: WarehouseInputs,
    use: str,
    target: ShardTarget,
    excluded: Sequence[Path],
    licenses: Sequence[str],
    shipped: Path,
    config: str = "",
) -> ShardsWritten:
    """Write the released rows into `data/train-NNNNN-of-NNNNN.parquet`, set by set.

    Rows are sorted by source, then by shard set (a run of the source's files), then by
    `example_id`, and each set fills shards of its own (`release.source_shards`): a set whose
    rows and texts are those of shards already published takes those files. Only rows under
    one of `licenses` go in, into `config`'s shards (`""`: the default config); rows with an
    exit in `excluded` stay out. `shipped` is the file `write_shipped_hashes` wrote.
    """
    query = _release_rows_sql(inputs)
    params = {**_params(inputs, use, excluded, shipped), "licenses": list(licenses)}
    ReleaseDir(target.staging).data.mkdir(parents=True, exist_ok=True)
    schema = arrow_schema(ReleaseRecord)
    texts = inputs.sanitized / layout.ROWS
    redacted = inputs.pii / layout.REDACTED
    with tempfile.TemporaryDirectory(prefix=layout.SCRATCH_TEXTS, dir=target.staging) as folder:
        scratch = Path(folder)
        narrow = scratch / layout.SCRATCH_NARROW
        write_sorted(con, query, params, narrow, ROW_GROUP_ROWS)
        sets = shard_sets(con, narrow, texts, redacted, TEXT_COLUMNS)
        count = max(1, sum(s.shards(target.shard_rows) for s in sets))
        names = [ReleaseDir.shard_name(i, count, config) for i in range(count)]
        written = ShardsWritten(list(names), sum(s.rows for s in sets))
        if not sets:  # nothing released under these licences: one shard without rows
            _split_into_shards([], schema, [target.staging / names[0]], 1, 1)
            return written
        todo = []
        for held in sets:
            group_rows = held.group_rows(ROW_GROUP_ROWS, ROW_GROUP_TEXT_BYTES)
            key = held.key(target.shard_rows, group_rows)
            shards = [names.pop(0) for _ in range(held.shards(target.shard_rows))]
            if target.cache.take(key, [target.staging / n for n in shards]):
                written.rows_reused += held.rows
            else:
                todo.append((held, key, shards, group_rows))
        label = f"release shards ({config or 'default'})"
        progress = Progress(label, sum(held.rows for held, *_ in todo))
        own_rows = _split_by_set(narrow, [held for held, *_ in todo], scratch)
        for (_, key, shards, group_rows), rows in zip(todo, own_rows, strict=True):
            paths = [target.staging / n for n in shards]
            with tempfile.TemporaryDirectory(dir=scratch) as own:  # its own text buckets
                joined = with_release_texts(rows, texts, redacted, Path(own), group_rows)
                counting = counted(joined, progress, finish=False)
                annotated = (annotate(b, schema) for b in counting)  # observed test outcomes
                # The next batch is joined on a thread while this one is encoded and compressed.
                _split_into_shards(
                    read_ahead(annotated), schema, paths, target.shard_rows, group_rows
                )
            rows.unlink()
            target.cache.remember(key, paths, [target.published / n for n in shards])
        if todo:
            progress.finish()
    return written


@dataclass(frozen=True)
class ShardTarget:
    """Where a cut writes its shards, where they will be published, and the shards it may take."""

    staging: Path  # the release's scratch folder
    published: Path  # the folder it becomes (`releases/<version>`)
    cache: ShardCache
    shard_rows: int


@dataclass
class ShardsWritten:
    """One config's shards: their names and rows, and the rows taken from published shards."""

    names: list[str]
    rows: int
    rows_reused: int = 0


def _split_by_set(narrow: Path, sets: Sequence[ShardSet], scratch: Path) -> list[Path]:
    """The narrow rows of each of `sets`, in a file of its own (still sorted by `example_id`).

    One pass over `narrow`: each batch's rows are grouped by set, in their order.
    """
    paths = [scratch / f"{number}-{layout.SCRATCH_SET}" for number in range(len(sets))]
    reader = parquet_reader(narrow)
    writers = [pq.ParquetWriter(p, reader.schema_arrow, **SCRATCH_OPTIONS) for p in paths]
    try:
        for batch in reader.iter_batches(ROW_GROUP_ROWS):
            owner = set_positions(batch, sets)
            order = np.argsort(owner, kind="stable")
            ends = np.searchsorted(owner[order], np.arange(len(sets) + 1))
            grouped = batch.take(pa.array(order))
            for number, writer in enumerate(writers):
                start, end = ends[number], ends[number + 1]
                if end > start:
                    writer.write_batch(grouped.slice(start, end - start))
    finally:
        for writer in writers:
            writer.close()
    return paths


def _split_into_shards(
    reader: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    paths: Sequence[Path],
    shard_rows: int,
    group_rows: int,
) -> None:
    """Write the rows of `reader` into `paths` in turn, `shard_rows` per shard.

    Row groups hold `group_rows` rows, counted from the start of each batch's part of a shard
    (as pyarrow's writer cuts a table it is given); they are encoded on two threads and
    appended in order, so the bytes are those of one writer writing the parts in turn.
    """
    writers = [GroupWriter(paths[0], schema, **WRITER_OPTIONS)]
    encode = partial(_encoded, schema)
    try:
        groups = _shard_groups(reader, schema, shard_rows, group_rows)
        for index, group in ordered_thread_map(encode, groups, SHARD_ENCODING_THREADS):
            if index == len(writers):
                writers[-1].close()
                writers.append(GroupWriter(paths[index], schema, **WRITER_OPTIONS))
            writers[-1].append_encoded(group)
    finally:
        writers[-1].close()


SHARD_ENCODING_THREADS = 2
"""Threads encoding a shard's row groups: the cut's other work waits on its encoding."""


def _encoded(schema: pa.Schema, part: tuple[int, pa.Table]) -> tuple[int, bytes]:
    index, rows = part
    return index, encode_group(rows, schema, **WRITER_OPTIONS)


def _shard_groups(
    reader: Iterable[pa.RecordBatch], schema: pa.Schema, shard_rows: int, group_rows: int
) -> Iterator[tuple[int, pa.Table]]:
    """`(shard index, rows of one row group)` for the rows of `reader`, in order."""
    index, written = 0, 0
    for batch in reader:
        offset = 0
        while offset < batch.num_rows:
            if written == shard_rows:
                index, written = index + 1, 0
            take = min(shard_rows - written, batch.num_rows - offset)
            part = pa.Table.from_batches([batch.slice(offset, take)]).cast(schema)
            for start in range(0, take, group_rows):
                yield index, part.slice(start, group_rows)
            offset, written = offset + take, written + take


def parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """A Parquet writer with the release's fixed settings (zstd, statistics)."""
    return pq.ParquetWriter(path, schema, **WRITER_OPTIONS)


def write_fates(
    con: duckdb.DuckDBPyConnection,
    inputs: WarehouseInputs,
    refused: Sequence[Path],
    out_dir: Path,
) -> dict[str, int]:
    """The release's fate ledger: every input line, `released` or the stage that removed it.

    `refused` holds the release's own exits (withheld, quarantined for an unknown seed...).
    """
    path = out_dir / ReleaseDir.FATES
    exits = [*inputs.exit_tables(), *refused]
    write_row_fates(con, list(inputs.source_dirs), exits, Fate.RELEASED, path, ROW_GROUP_ROWS)
    return fate_counts(con, path)


_TYPE_NAMES = {
    pa.string(): "string",
    pa.int64(): "int64",
    pa.float64(): "float64",
    pa.bool_(): "bool",
    pa.timestamp("us", tz="UTC"): "timestamp",
}


def release_columns() -> tuple[ColumnInfo, ...]:
    """The released columns as the card and Croissant metadata describe them."""
    return tuple(
        _column_info(doc.name, doc.arrow_type, doc.description)
        for doc in column_docs(ReleaseRecord)
    )


def _column_info(name: str, arrow_type: pa.DataType, description: str) -> ColumnInfo:
    """A column (or a nested field): lists are repeated values, structs have sub-fields."""
    if pa.types.is_list(arrow_type):
        item = _column_info(name, arrow_type.value_type, description)
        return ColumnInfo(name, item.data_type, description, True, item.sub_fields)
    if pa.types.is_struct(arrow_type):
        fields = tuple(
            _column_info(field.name, field.type, f"`{name}.{field.name}`") for field in arrow_type
        )
        return ColumnInfo(name, "struct", description, False, fields)
    return ColumnInfo(name, _TYPE_NAMES[arrow_type], description)


def input_fingerprint(inputs: dict[str, Any]) -> str:
    """One hash over every input of a release (specs, policy, code, source files, use)."""
    return sha256_hex(canonical_json(inputs).encode("utf-8"))
