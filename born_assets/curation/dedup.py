"""Exact deduplication: one survivor per prompt, and responses shared across prompts.

Prompt dedup (`dedup_prompts`): rows with the same `prompt_hash` (SHA-256 of the prompt as sent)
form a group, across all lanes and imports. The survivor is the first row of the group under
`dedup.survivor_order` from the policy, e.g.
`[curation_score desc, lane_priority asc, generation_timestamp asc, example_id asc]`; nulls sort
last in every key, and the order must end with `example_id` (unique), so the survivors do not
depend on the input order. Every other row of the group is a duplicate whose `duplicate_of` is
the survivor's `example_id`. `lane_priority` is looked up from the row's `generation_lane` in
`dedup.lane_priority` (`dedup.default_lane_priority` when unlisted) unless the input already has
a `lane_priority` column. Rows with a null `prompt_hash` are never duplicates.

Response duplicates (`response_duplicate_counts`): a soft signal, never a drop. Responses are
compared by `response_fingerprint`: BLAKE2b-128 of the UTF-8 bytes with every ASCII whitespace
byte removed (so re-indented or re-wrapped copies match; case is kept, because code is
case-sensitive; no Unicode normalization). For each row it counts the *other* distinct prompts
whose rows carry the same fingerprint; `curation_score` uses that count.

Both run in DuckDB over narrow key columns (a window `ROW_NUMBER` / a distinct count), take a
pyarrow Table and return one pyarrow Table sorted by `example_id`. `write_prompt_decisions` runs
the prompt dedup over a DuckDB relation instead and writes its decisions to Parquet, so a
million rows' keys and decisions are never held in Python (DuckDB spills within its limit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeAlias

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from born_assets.specs.curation_policy import DedupKey, SortDirection
from born_assets.specs.policy import Policy

_ASCII_WHITESPACE = b" \t\n\r\x0b\x0c"


DEDUP_SCHEMA = pa.schema(
    [
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("is_duplicate", pa.bool_(), nullable=False),
        pa.field("duplicate_of", pa.string()),
        pa.field("duplicate_group_size", pa.int64(), nullable=False),
        pa.field("survivor_rank", pa.int64(), nullable=False),
    ]
)
"""`survivor_rank`: the row's place among all rows under `dedup.survivor_order` (1 = the row any
group would keep); near-dedup visits the exact survivors in this order, so it keeps rows by the
same rule."""
RESPONSE_DUPLICATES_SCHEMA = pa.schema(
    [
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("other_prompts_sharing_response", pa.int64(), nullable=False),
    ]
)

_ROWS, _LANES = "_born_dedup_rows", "_born_dedup_lanes"
Source: TypeAlias = pa.Table | duckdb.DuckDBPyRelation
"""What the dedup queries read: an Arrow table, or a relation of the connection they run on."""
_KEY_SQL = {
    DedupKey.CURATION_SCORE: "r.curation_score",
    DedupKey.LANE_PRIORITY: "r.lane_priority",
    DedupKey.GENERATION_TIMESTAMP: "r.generation_timestamp",
    DedupKey.EXAMPLE_ID: "r.example_id",
}
_LANE_FROM_MAP = "coalesce(l.lane_priority, ?) AS lane_priority"
_TIMESTAMP_FROM_TEXT = "TRY_CAST(r.generation_timestamp AS TIMESTAMPTZ)"
_DIRECTION_SQL = {SortDirection.ASC: "ASC NULLS LAST", SortDirection.DESC: "DESC NULLS LAST"}


def response_fingerprint(response: str | bytes) -> str:
    """BLAKE2b-128 hex of the response's UTF-8 bytes with all ASCII whitespace removed."""
    data = response.encode() if isinstance(response, str) else response
    return hashlib.blake2b(data.translate(None, _ASCII_WHITESPACE), digest_size=16).hexdigest()


def _require(names: Sequence[str], columns: list[str], what: str) -> None:
    missing = [name for name in columns if name not in names]
    if missing:
        raise KeyError(f"{what} input lacks columns {missing}")


def _check_unique_ids(result: pa.Table) -> pa.Table:
    ids = result.column("example_id")
    if len(ids) > 1 and pc.any(pc.equal(ids[1:], ids[:-1])).as_py():
        raise ValueError("example_id is not unique in the dedup input")
    return result


def _key_expression(schema: pa.Schema, key: DedupKey) -> str:
    """SQL for one ordering key; ISO 8601 text timestamps are compared as instants."""
    if key is DedupKey.GENERATION_TIMESTAMP and key.value in schema.names:
        kind = schema.field(key.value).type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return _TIMESTAMP_FROM_TEXT
    return _KEY_SQL[key]


def _keyed_sql(
    schema: pa.Schema, policy: Policy, carry: Sequence[str]
) -> tuple[str, str, list[object], bool]:
    """The rows with their ordering keys: a query, its ORDER BY, parameters, lane table needed."""
    keys = [item.key for item in policy.dedup.survivor_order]
    needed = ["example_id", "prompt_hash", *carry]
    select = ["r.example_id", "r.prompt_hash", *(f"r.{name}" for name in carry)]
    params: list[object] = []
    join_lanes = False
    for key in keys:
        if key is DedupKey.EXAMPLE_ID:
            continue
        if key is DedupKey.LANE_PRIORITY and "lane_priority" not in schema.names:
            needed.append("generation_lane")
            select.append(_LANE_FROM_MAP)
            params.append(policy.dedup.default_lane_priority)
            join_lanes = True
            continue
        needed.append(key.value)
        select.append(f"{_key_expression(schema, key)} AS {key.value}")
    _require(schema.names, needed, "dedup")
    order = ", ".join(
        f"{item.key.value} {_DIRECTION_SQL[item.direction]}" for item in policy.dedup.survivor_order
    )
    lanes = (
        f" LEFT JOIN {_LANES} AS l ON l.generation_lane = r.generation_lane" if join_lanes else ""
    )
    return f"SELECT {', '.join(select)} FROM {_ROWS} AS r{lanes}", order, params, join_lanes


def _decisions_sql(
    schema: pa.Schema, policy: Policy, carry: Sequence[str] = ()
) -> tuple[str, list[object], bool]:
    """The decisions query (`DEDUP_SCHEMA`, then `carry`), its parameters, lane table needed."""
    keyed, order, params, join_lanes = _keyed_sql(schema, policy, carry)
    # Column names come from the schemas, never from data.
    carried = "".join(f", {name}" for name in carry)
    sql = f"""
        WITH keyed AS ({keyed}),
        ranked AS (
            SELECT *,
                   row_number() OVER w AS position,
                   first_value(example_id) OVER w AS survivor,
                   count(*) OVER (PARTITION BY prompt_hash, CASE WHEN prompt_hash IS NULL
                                  THEN example_id END) AS group_size,
                   row_number() OVER (ORDER BY {order}) AS survivor_rank
            FROM keyed
            WINDOW w AS (PARTITION BY prompt_hash,
                                      CASE WHEN prompt_hash IS NULL THEN example_id END
                         ORDER BY {order})
        )
        SELECT example_id,
               position > 1 AS is_duplicate,
               CASE WHEN position > 1 THEN survivor END AS duplicate_of,
               group_size AS duplicate_group_size,
               survivor_rank{carried}
        FROM ranked
        ORDER BY example_id
    """
    return sql, params, join_lanes


def _lane_table(policy: Policy) -> pa.Table:
    return pa.table(
        {
            "generation_lane": pa.array(list(policy.dedup.lane_priority), pa.string()),
            "lane_priority": pa.array(list(policy.dedup.lane_priority.values()), pa.int64()),
        }
    )


def dedup_prompts(
    rows: pa.Table, policy: Policy, *, connection: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Mark exact prompt duplicates and name each one's survivor.

    Args:
        rows: One row per example with `example_id` (unique), `prompt_hash` and the columns the
            survivor order needs: `curation_score`, `generation_timestamp` (timestamp or ISO 8601
            text), `lane_priority` or `generation_lane`.
        policy: Supplies `dedup.survivor_order` and the lane priorities.
        connection: DuckDB connection to run on; a private in-memory one by default.

    Returns:
        `example_id, is_duplicate, duplicate_of, duplicate_group_size, survivor_rank`
        (`DEDUP_SCHEMA`), one row per input row, sorted by `example_id`.
    """
    sql, params, join_lanes = _decisions_sql(rows.schema, policy)
    result = _run(sql, params, _decision_inputs(rows, policy, join_lanes), connection)
    return _check_unique_ids(result.cast(DEDUP_SCHEMA))


def write_prompt_decisions(
    con: duckdb.DuckDBPyConnection,
    rows: duckdb.DuckDBPyRelation,
    policy: Policy,
    out: Path,
    carry: Sequence[str] = (),
) -> int:
    """`dedup_prompts` over a relation of `con`, written to Parquet at `out`; returns its rows.

    The decisions (`DEDUP_SCHEMA`, then the input's `carry` columns) are sorted by `example_id`
    and go from DuckDB to the file without passing through Python.

    Raises:
        ValueError: `example_id` is not unique in `rows`.
    """
    schema = rows.limit(0).to_arrow_table().schema
    sql, params, join_lanes = _decisions_sql(schema, policy, carry)
    with _registered(con, _decision_inputs(rows, policy, join_lanes)):
        con.sql(sql, params=params or None).to_parquet(out.as_posix())
    repeated = con.execute(
        "SELECT example_id FROM read_parquet($out) GROUP BY example_id HAVING count(*) > 1 LIMIT 1",
        {"out": out.as_posix()},
    ).fetchone()
    if repeated is not None:
        raise ValueError(f"example_id is not unique in the dedup input: {repeated[0]!r}")
    return int(pq.ParquetFile(out).metadata.num_rows)


def _decision_inputs(rows: Source, policy: Policy, join_lanes: bool) -> dict[str, Source]:
    """What the decisions query reads, under its fixed names."""
    return {_ROWS: rows, **({_LANES: _lane_table(policy)} if join_lanes else {})}


def response_duplicate_counts(
    rows: pa.Table, *, connection: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Count, per example, the other prompts whose rows share its normalized response.

    Args:
        rows: `example_id`, `prompt_hash` and `response_norm_hash` (from the gates); a null
            `prompt_hash` counts as a prompt of its own, a null `response_norm_hash` shares with
            nothing.
        connection: DuckDB connection to run on; a private in-memory one by default.

    Returns:
        `example_id, other_prompts_sharing_response` (`RESPONSE_DUPLICATES_SCHEMA`), sorted by
        `example_id`.
    """
    needed = ["example_id", "prompt_hash", "response_norm_hash"]
    _require(rows.column_names, needed, "response dedup")
    sql = f"""
        WITH pairs AS (
            SELECT DISTINCT response_norm_hash, coalesce(prompt_hash, '#' || example_id) AS prompt
            FROM {_ROWS}
            WHERE response_norm_hash IS NOT NULL
        ),
        shared AS (
            SELECT response_norm_hash, count(*) - 1 AS others
            FROM pairs
            GROUP BY response_norm_hash
            HAVING count(*) > 1
        )
        SELECT r.example_id, coalesce(s.others, 0) AS other_prompts_sharing_response
        FROM {_ROWS} AS r LEFT JOIN shared AS s USING (response_norm_hash)
        ORDER BY r.example_id
    """
    result = _run(sql, [], {_ROWS: rows}, connection)
    return _check_unique_ids(result.cast(RESPONSE_DUPLICATES_SCHEMA))


def _run(
    sql: str,
    params: list[object],
    tables: Mapping[str, Source],
    connection: duckdb.DuckDBPyConnection | None,
) -> pa.Table:
    """Run `sql` with `tables` registered under their fixed names, then unregister them."""
    con = connection
    if con is None:
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
    try:
        with _registered(con, tables):
            relation = con.sql(sql, params=params or None)
            if relation is None:
                raise RuntimeError("dedup query returned no relation")
            return relation.to_arrow_table()
    finally:
        if connection is None:
            con.close()


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Source]) -> Iterator[None]:
    """`tables` registered on `con` under their names for the block, unregistered after."""
    try:
        for name, table in tables.items():
            con.register(name, table)
        yield
    finally:
        for name in tables:
            con.unregister(name)
