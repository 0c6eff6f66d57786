"""`duplicates_without_survivor`: every removed row's chain ends in a kept row that matches it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets import layout
from born_assets.curation.dedup_stage import duplicates_without_survivor
from born_assets.specs.policy import Policy
from born_assets_tests.conftest import SAMPLE_DATA

HASH_A, HASH_B = "a" * 64, "b" * 64


def _tables(tmp_path: Path, exits: list[tuple[str, str, str]], near: list[tuple[str, str, float]]):
    """Gated rows S, X (prompt A) and T (prompt B); T is kept; the exits and near list given."""
    folder = tmp_path / "deduplicated"
    folder.mkdir()
    gated = tmp_path / "gated.parquet"
    pq.write_table(
        pa.table({"example_id": ["S", "X", "T"], "prompt_hash": [HASH_A, HASH_A, HASH_B]}), gated
    )
    pq.write_table(pa.table({"example_id": ["T"]}), folder / layout.ROWS)
    ids, reasons, details = zip(*exits, strict=True) if exits else ((), (), ())
    pq.write_table(
        pa.table(
            {"example_id": list(ids), "reason": list(reasons), "detail": list(details)},
            schema=pa.schema(
                [("example_id", pa.string()), ("reason", pa.string()), ("detail", pa.string())]
            ),  # fmt: skip
        ),
        folder / layout.EXITS,
    )
    removed, survivors, similarity = zip(*near, strict=True) if near else ((), (), ())
    pq.write_table(
        pa.table(
            {
                "example_id": list(removed),
                "duplicate_of": list(survivors),
                "estimated_similarity": list(similarity),
            },
            schema=pa.schema(
                [
                    ("example_id", pa.string()),
                    ("duplicate_of", pa.string()),
                    ("estimated_similarity", pa.float64()),
                ]
            ),
        ),  # fmt: skip
        folder / layout.NEAR_DUPLICATES,
    )
    return folder, gated


@pytest.fixture
def policy() -> Policy:
    return Policy.load(SAMPLE_DATA / "policy.yaml")


def test_an_exact_twin_of_a_near_duplicate_reaches_the_kept_row(
    tmp_path: Path, policy: Policy
) -> None:
    folder, gated = _tables(
        tmp_path,
        exits=[("X", "duplicate_prompt", "S"), ("S", "near_duplicate", "T")],
        near=[("S", "T", 0.9)],
    )
    assert duplicates_without_survivor(duckdb.connect(), folder, gated, policy) == []


@pytest.mark.parametrize(
    ("exits", "near", "offender"),
    [
        # S left as a near duplicate of a row that is not kept either.
        ([("X", "duplicate_prompt", "S"), ("S", "near_duplicate", "X")], [("S", "X", 0.9)], "S"),
        # An exact duplicate naming a kept row with another prompt.
        ([("X", "duplicate_prompt", "T"), ("S", "duplicate_prompt", "T")], [], "S"),
        # A near duplicate below the policy's threshold.
        ([("X", "duplicate_prompt", "S"), ("S", "near_duplicate", "T")], [("S", "T", 0.1)], "S"),
        # A near duplicate whose named survivor is only another near duplicate.
        (
            [("X", "near_duplicate", "S"), ("S", "near_duplicate", "T")],
            [("X", "S", 0.9), ("S", "T", 0.9)],
            "X",
        ),  # fmt: skip
    ],
)
def test_a_broken_chain_is_named(
    tmp_path: Path,
    policy: Policy,
    exits: list[tuple[str, str, str]],
    near: list[tuple[str, str, float]],
    offender: str,
) -> None:
    folder, gated = _tables(tmp_path, exits, near)
    bad = duplicates_without_survivor(duckdb.connect(), folder, gated, policy)
    assert offender in {example_id for example_id, _, _ in bad}
