"""Dedup decides which copy of a prompt is trained on; the choice must follow the stated rule.

The survivor rule comes from the policy; these tests pin it case by case, check it against a
plain-Python reference on random inputs, and prove the properties a release depends on: the
input order never changes the survivors, deduplicating twice changes nothing, and every dropped
row names a survivor with the same prompt.
"""

import copy
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from born_assets.curation.dedup import (
    DEDUP_SCHEMA,
    RESPONSE_DUPLICATES_SCHEMA,
    dedup_prompts,
    response_duplicate_counts,
    response_fingerprint,
    write_prompt_decisions,
)
from born_assets.specs.policy import Policy
from born_assets_tests.conftest import SAMPLE_DATA

POLICY_PATH = SAMPLE_DATA / "policy.yaml"


def _policy(**dedup: Any) -> Policy:
    document = yaml.safe_load(POLICY_PATH.read_text())
    document["dedup"].update(copy.deepcopy(dedup))
    return Policy.from_yaml(yaml.safe_dump(document))


@pytest.fixture(scope="module")
def policy() -> Policy:
    return _policy(lane_priority={"gold": 1, "silver": 2})


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.table(
        {
            "example_id": pa.array([row["example_id"] for row in rows], pa.string()),
            "prompt_hash": pa.array([row.get("prompt_hash") for row in rows], pa.string()),
            "curation_score": pa.array([row.get("curation_score") for row in rows], pa.float64()),
            "generation_lane": pa.array([row.get("generation_lane") for row in rows], pa.string()),
            "generation_timestamp": pa.array(
                [row.get("generation_timestamp") for row in rows], pa.string()
            ),
        }
    )


def _survivors(result: pa.Table) -> dict[str, str | None]:
    return dict(
        zip(result["example_id"].to_pylist(), result["duplicate_of"].to_pylist(), strict=True)
    )


T0, T1 = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
# (case id, rows, expected duplicate_of per example_id)
SURVIVOR_CASES: list[tuple[str, list[dict[str, Any]], dict[str, str | None]]] = [
    ("higher score wins",
     [{"example_id": "a", "prompt_hash": "h", "curation_score": 0.5},
      {"example_id": "b", "prompt_hash": "h", "curation_score": 0.9}],
     {"a": "b", "b": None}),
    ("score tie: preferred lane wins",
     [{"example_id": "a", "prompt_hash": "h", "curation_score": 0.9, "generation_lane": "silver"},
      {"example_id": "b", "prompt_hash": "h", "curation_score": 0.9, "generation_lane": "gold"}],
     {"a": "b", "b": None}),
    ("unlisted lane gets default_lane_priority",
     [{"example_id": "a", "prompt_hash": "h", "curation_score": 0.9, "generation_lane": "bronze"},
      {"example_id": "b", "prompt_hash": "h", "curation_score": 0.9, "generation_lane": "silver"}],
     {"a": "b", "b": None}),
    ("lane tie: earliest generation wins",
     [{"example_id": "a", "prompt_hash": "h", "curation_score": 0.9, "generation_timestamp": T1},
      {"example_id": "b", "prompt_hash": "h", "curation_score": 0.9, "generation_timestamp": T0}],
     {"a": "b", "b": None}),
    ("same instant in two spellings ties; example_id decides",
     [{"example_id": "b", "prompt_hash": "h", "generation_timestamp": "2026-01-01T01:00:00+01:00"},
      {"example_id": "a", "prompt_hash": "h", "generation_timestamp": T0}],
     {"a": None, "b": "a"}),
    ("full tie: smallest example_id wins",
     [{"example_id": "b", "prompt_hash": "h"}, {"example_id": "a", "prompt_hash": "h"},
      {"example_id": "c", "prompt_hash": "h"}],
     {"a": None, "b": "a", "c": "a"}),
    ("null score sorts last",
     [{"example_id": "a", "prompt_hash": "h", "curation_score": None},
      {"example_id": "b", "prompt_hash": "h", "curation_score": 0.0}],
     {"a": "b", "b": None}),
    ("null timestamp sorts last",
     [{"example_id": "a", "prompt_hash": "h", "generation_timestamp": None},
      {"example_id": "b", "prompt_hash": "h", "generation_timestamp": T1}],
     {"a": "b", "b": None}),
    ("different prompts are never duplicates",
     [{"example_id": "a", "prompt_hash": "h1"}, {"example_id": "b", "prompt_hash": "h2"}],
     {"a": None, "b": None}),
    ("null prompt_hash is never a duplicate",
     [{"example_id": "a", "prompt_hash": None}, {"example_id": "b", "prompt_hash": None}],
     {"a": None, "b": None}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "expected"),
    [case[1:] for case in SURVIVOR_CASES],
    ids=[case[0] for case in SURVIVOR_CASES],
)
def test_survivor_rule(
    policy: Policy, rows: list[dict[str, Any]], expected: dict[str, str | None]
) -> None:
    result = dedup_prompts(_table(rows), policy)
    assert result.schema == DEDUP_SCHEMA
    assert _survivors(result) == expected
    assert result["is_duplicate"].to_pylist() == [expected[i] is not None for i in sorted(expected)]


def test_group_size_counts_the_whole_group(policy: Policy) -> None:
    rows: list[dict[str, Any]] = [
        {"example_id": "a", "prompt_hash": "h"},
        {"example_id": "b", "prompt_hash": "h"},
        {"example_id": "c", "prompt_hash": "h"},
        {"example_id": "d", "prompt_hash": "g"},
        {"example_id": "e", "prompt_hash": None},
        {"example_id": "f", "prompt_hash": None},
    ]
    result = dedup_prompts(_table(rows), policy)
    assert result["duplicate_group_size"].to_pylist() == [3, 3, 3, 1, 1, 1]


def test_policy_order_is_followed_not_hard_coded() -> None:
    latest_first = _policy(survivor_order=["generation_timestamp desc", "example_id desc"])
    rows = [
        {"example_id": "a", "prompt_hash": "h", "generation_timestamp": T1, "curation_score": 0},
        {"example_id": "b", "prompt_hash": "h", "generation_timestamp": T1, "curation_score": 1},
        {"example_id": "c", "prompt_hash": "h", "generation_timestamp": T0, "curation_score": 1},
    ]
    assert _survivors(dedup_prompts(_table(rows), latest_first)) == {"a": "b", "b": None, "c": "b"}


def test_lane_priority_column_is_used_as_given(policy: Policy) -> None:
    table = pa.table(
        {
            "example_id": ["a", "b"],
            "prompt_hash": ["h", "h"],
            "curation_score": [1.0, 1.0],
            "lane_priority": [5, 3],
            "generation_timestamp": pa.array([T0, T0], pa.string()),
        }
    )
    assert _survivors(dedup_prompts(table, policy)) == {"a": "b", "b": None}


def test_timestamp_columns_work_as_well_as_text(policy: Policy) -> None:
    stamps = [datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)]
    table = _table(
        [{"example_id": "a", "prompt_hash": "h"}, {"example_id": "b", "prompt_hash": "h"}]
    )
    table = table.set_column(4, "generation_timestamp", pa.array(stamps, pa.timestamp("us", "UTC")))
    assert _survivors(dedup_prompts(table, policy)) == {"a": "b", "b": None}


def test_only_the_columns_the_order_needs_are_required() -> None:
    by_id = _policy(survivor_order=["example_id asc"])
    table = pa.table({"example_id": ["b", "a"], "prompt_hash": ["h", "h"]})
    assert _survivors(dedup_prompts(table, by_id)) == {"a": None, "b": "a"}


def test_missing_order_column_is_an_error(policy: Policy) -> None:
    table = pa.table({"example_id": ["a"], "prompt_hash": ["h"], "curation_score": [1.0]})
    with pytest.raises(KeyError, match="generation_lane"):
        dedup_prompts(table, policy)


def test_repeated_example_id_is_an_error(policy: Policy) -> None:
    rows = [{"example_id": "a", "prompt_hash": "h"}, {"example_id": "a", "prompt_hash": "g"}]
    with pytest.raises(ValueError, match="example_id is not unique"):
        dedup_prompts(_table(rows), policy)


def test_runs_on_a_caller_connection_and_cleans_up(policy: Policy) -> None:
    connection = duckdb.connect()
    rows = [{"example_id": "a", "prompt_hash": "h"}, {"example_id": "b", "prompt_hash": "h"}]
    assert _survivors(dedup_prompts(_table(rows), policy, connection=connection)) == {
        "a": None,
        "b": "a",
    }
    views = connection.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert views == []


def test_empty_input(policy: Policy) -> None:
    result = dedup_prompts(_table([]), policy)
    assert result.num_rows == 0 and result.schema == DEDUP_SCHEMA


# --- reference implementation and properties -------------------------------------------------

_LANES = st.sampled_from(["gold", "silver", "bronze", None])
_STAMPS = st.one_of(
    st.none(),
    st.integers(0, 4).map(
        lambda hours: (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    ),
)
_ROW = st.fixed_dictionaries(
    {
        "prompt_hash": st.sampled_from(["h1", "h2", "h3", None]),
        "curation_score": st.sampled_from([None, 0.0, 0.5, 1.0]),
        "generation_lane": _LANES,
        "generation_timestamp": _STAMPS,
    }
)
_ROWS = st.lists(_ROW, max_size=25).map(
    lambda rows: [{**row, "example_id": f"ex{index:03d}"} for index, row in enumerate(rows)]
)


def _reference(rows: list[dict[str, Any]], policy: Policy) -> dict[str, str | None]:
    """Survivors by sorting in Python with the default order (score, lane, time, id)."""
    priorities = policy.dedup.lane_priority

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        score, stamp = row["curation_score"], row["generation_timestamp"]
        lane = priorities.get(row["generation_lane"], policy.dedup.default_lane_priority)
        return (score is None, -(score or 0.0), lane, stamp is None, stamp or "", row["example_id"])

    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["prompt_hash"] is not None:
            groups.setdefault(row["prompt_hash"], []).append(row)
    result: dict[str, str | None] = {row["example_id"]: None for row in rows}
    for members in groups.values():
        survivor = min(members, key=key)["example_id"]
        for member in members:
            if member["example_id"] != survivor:
                result[member["example_id"]] = survivor
    return result


@settings(max_examples=60, deadline=None)
@given(_ROWS)
def test_matches_the_reference(policy: Policy, rows: list[dict[str, Any]]) -> None:
    assert _survivors(dedup_prompts(_table(rows), policy)) == _reference(rows, policy)


@settings(max_examples=60, deadline=None)
@given(_ROWS, st.randoms(use_true_random=False))
def test_input_order_does_not_change_survivors(
    policy: Policy, rows: list[dict[str, Any]], shuffler: random.Random
) -> None:
    shuffled = rows[:]
    shuffler.shuffle(shuffled)
    assert dedup_prompts(_table(shuffled), policy).equals(dedup_prompts(_table(rows), policy))


@settings(max_examples=60, deadline=None)
@given(_ROWS)
def test_dedup_of_the_survivors_is_a_no_op(policy: Policy, rows: list[dict[str, Any]]) -> None:
    first = dedup_prompts(_table(rows), policy)
    kept = {
        eid
        for eid, dup in zip(
            first["example_id"].to_pylist(), first["is_duplicate"].to_pylist(), strict=True
        )
        if not dup
    }
    survivors = [row for row in rows if row["example_id"] in kept]
    second = dedup_prompts(_table(survivors), policy)
    assert second["is_duplicate"].to_pylist() == [False] * len(survivors)
    assert set(second["duplicate_group_size"].to_pylist()) <= {1}
    assert sorted(kept) == second["example_id"].to_pylist()


@settings(max_examples=60, deadline=None)
@given(_ROWS)
def test_every_duplicate_points_at_a_better_ranked_survivor_of_its_prompt(
    policy: Policy, rows: list[dict[str, Any]]
) -> None:
    result = dedup_prompts(_table(rows), policy).to_pylist()
    by_id = {row["example_id"]: row for row in rows}
    verdicts = {row["example_id"]: row for row in result}
    for example_id, verdict in verdicts.items():
        if verdict["is_duplicate"]:
            survivor = verdicts[verdict["duplicate_of"]]
            assert not survivor["is_duplicate"]
            assert by_id[survivor["example_id"]]["prompt_hash"] == by_id[example_id]["prompt_hash"]
            assert survivor["survivor_rank"] < verdict["survivor_rank"]
    ranks = sorted(verdict["survivor_rank"] for verdict in result)
    assert ranks == list(range(1, len(rows) + 1))
    distinct = {row["prompt_hash"] for row in rows if row["prompt_hash"] is not None}
    nulls = sum(row["prompt_hash"] is None for row in rows)
    assert sum(not verdict["is_duplicate"] for verdict in result) == len(distinct) + nulls


@settings(max_examples=30, deadline=None)
@given(_ROWS)
def test_decisions_written_from_a_relation_match_the_table_form(
    policy: Policy, tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, Any]]
) -> None:
    folder = tmp_path_factory.mktemp("relation")
    table = _table(rows).append_column("task", pa.array([f"t{n % 3}" for n in range(len(rows))]))
    pq.write_table(table, folder / "rows.parquet")
    with duckdb.connect() as con:
        relation = con.sql(
            "SELECT * FROM read_parquet($p)", params={"p": str(folder / "rows.parquet")}
        )
        written = write_prompt_decisions(con, relation, policy, folder / "out.parquet", ["task"])
        views = con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    result = pq.read_table(folder / "out.parquet")
    assert written == len(rows) and views == []
    assert result.select(DEDUP_SCHEMA.names).cast(DEDUP_SCHEMA).equals(dedup_prompts(table, policy))
    tasks = dict(zip(table["example_id"].to_pylist(), table["task"].to_pylist(), strict=True))
    assert result["task"].to_pylist() == [tasks[e] for e in result["example_id"].to_pylist()]


def test_decisions_written_from_a_relation_refuse_a_repeated_id(
    policy: Policy, tmp_path: Path
) -> None:
    rows = [{"example_id": "a", "prompt_hash": "h"}, {"example_id": "a", "prompt_hash": "g"}]
    pq.write_table(_table(rows), tmp_path / "rows.parquet")
    with duckdb.connect() as con:
        relation = con.sql(
            "SELECT * FROM read_parquet($p)", params={"p": str(tmp_path / "rows.parquet")}
        )
        with pytest.raises(ValueError, match="example_id is not unique.*'a'"):
            write_prompt_decisions(con, relation, policy, tmp_path / "out.parquet")


# --- responses shared across prompts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("def f():\n    return 1\n", "def f():\n        return 1", True),
        ("  a b\tc\r\n", "abc", True),
        ("Return X", "return x", False),
        ("caf\u00e9", "cafe", False),
    ],
)
def test_fingerprint_ignores_whitespace_only(left: str, right: str, same: bool) -> None:
    assert (response_fingerprint(left) == response_fingerprint(right)) is same
    assert response_fingerprint(left) == response_fingerprint(left.encode())
    assert len(response_fingerprint(left)) == 32


def test_counts_other_prompts_sharing_a_response() -> None:
    table = pa.table(
        {
            "example_id": ["a", "b", "c", "d", "e", "f", "g"],
            "prompt_hash": ["p1", "p1", "p2", "p3", None, "p4", "p5"],
            "response_norm_hash": ["r1", "r1", "r1", "r2", "r1", None, "r3"],
        }
    )
    result = response_duplicate_counts(table)
    assert result.schema == RESPONSE_DUPLICATES_SCHEMA
    assert result.to_pydict() == {
        "example_id": ["a", "b", "c", "d", "e", "f", "g"],
        # r1 is answered to p1 (twice), p2 and one prompt of unknown hash: 3 prompts
        "other_prompts_sharing_response": [2, 2, 2, 0, 2, 0, 0],
    }


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["r1", "r2", None])),
        max_size=20,
    ),
    st.randoms(use_true_random=False),
)
def test_response_counts_do_not_depend_on_order(
    pairs: list[tuple[str, str | None]], shuffler: random.Random
) -> None:
    ids = [f"ex{index:03d}" for index in range(len(pairs))]
    rows = list(zip(ids, pairs, strict=True))
    shuffled = rows[:]
    shuffler.shuffle(shuffled)

    def table(items: list[tuple[str, tuple[str, str | None]]]) -> pa.Table:
        return pa.table(
            {
                "example_id": pa.array([eid for eid, _ in items], pa.string()),
                "prompt_hash": pa.array([pair[0] for _, pair in items], pa.string()),
                "response_norm_hash": pa.array([pair[1] for _, pair in items], pa.string()),
            }
        )

    result = response_duplicate_counts(table(rows))
    assert result.equals(response_duplicate_counts(table(shuffled)))
    prompts: dict[str, set[str]] = {}
    for _, (prompt, response) in rows:
        if response is not None:
            prompts.setdefault(response, set()).add(prompt)
    expected = [len(prompts[pair[1]]) - 1 if pair[1] else 0 for _, pair in rows]
    assert result["other_prompts_sharing_response"].to_pylist() == expected
