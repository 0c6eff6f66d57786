"""Near-dedup removes training rows for good: it must catch copies and never unrelated rows.

Planted copies of real rows (reformatted, reworded, renamed; see `born_assets_tests.planted`) are
measured at the policy's settings: reformatting is always caught, unrelated real tasks never
collide, and the survivor rule holds whatever the input order (each removed row names a kept row
at least `near_dedup.threshold` similar to it).
"""

import random

import numpy as np
import pytest

from born_assets.curation.near_dedup import find_near_duplicates
from born_assets.specs.policy import Policy
from born_assets.text.minhash import sign
from born_assets_tests.conftest import SAMPLE_DATA
from born_assets_tests.planted import lane_rows, near_dedup_quality, planted_copy


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(SAMPLE_DATA / "policy.yaml")


def test_planted_copies_at_the_policy_threshold(policy: Policy) -> None:
    quality = near_dedup_quality(policy)
    assert quality["reformatted"]["recall"] == 1.0
    # Measured floors (docs/similarity.md): 5-word shingles at 0.8 catch few heavy rewordings.
    assert quality["reworded"]["recall"] >= 0.05
    assert quality["renamed"]["recall"] >= 0.05
    assert all(q["false_positive_rate"] == 0.0 for q in quality.values())


def test_survivors_do_not_depend_on_input_order(policy: Policy) -> None:
    rows = lane_rows()[:40]
    rows += [planted_copy(r, "reformatted", 1) for r in rows[:10]]
    rows += [planted_copy(r, "reformatted", 2) for r in rows[:10]]
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    ranks = np.array(random.Random(3).sample(range(len(rows)), len(rows)), dtype=np.int64)

    def decide(order: list[int]) -> dict[str, str | None]:
        signatures = sign([[rows[i].prompt, rows[i].response] for i in order], params)
        found = find_near_duplicates(signatures, ranks[order], policy)
        return {
            rows[order[n]].row_id: rows[order[j]].row_id if j >= 0 else None
            for n, j in enumerate(found.duplicate_of.tolist())
        }

    first = decide(list(range(len(rows))))
    shuffled = list(range(len(rows)))
    random.Random(5).shuffle(shuffled)
    assert decide(shuffled) == first
    removed = {k: v for k, v in first.items() if v is not None}
    assert len(removed) == 20  # both copies of each of the 10 rows go; the best-ranked stays
    assert all(first[survivor] is None for survivor in removed.values())


def test_a_removed_row_is_similar_enough_to_its_survivor(policy: Policy) -> None:
    rows = lane_rows()[:30]
    rows += [planted_copy(r, "reformatted", 1) for r in rows[:5]]
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    signatures = sign([[r.prompt, r.response] for r in rows], params)
    found = find_near_duplicates(signatures, np.arange(len(rows), dtype=np.int64), policy)
    for row, survivor in enumerate(found.duplicate_of.tolist()):
        if survivor >= 0:
            assert found.similarity[row] >= policy.near_dedup.threshold
            assert found.duplicate_of[survivor] == -1
    assert found.counts().sum() == np.count_nonzero(found.duplicate_of >= 0) == 5


def test_an_empty_text_is_similar_to_nothing(policy: Policy) -> None:
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    signatures = sign([["", "..."], ["", ""], ["a b c d e f", ""]], params)
    assert signatures.empty.tolist() == [True, True, False]
    found = find_near_duplicates(signatures, np.arange(3, dtype=np.int64), policy)
    assert found.duplicate_of.tolist() == [-1, -1, -1]
