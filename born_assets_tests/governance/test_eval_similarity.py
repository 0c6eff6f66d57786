"""Paraphrased eval items slip past 13-word n-grams; the similarity check must catch them.

Reworded and renamed copies of the repo's HumanEval and MBPP items (`born_assets_tests.planted`)
are compared with the eval sets at the policy's threshold; unrelated real tasks (BigCodeBench,
SWE-bench Lite) must not be flagged. The figures are the ones docs/similarity.md reports.
"""

from typing import Any

import numpy as np

from born_assets.governance.eval_index import EvalText
from born_assets.governance.eval_similarity import NearestRows
from born_assets.specs.policy import Policy
from born_assets_tests.conftest import SAMPLE_DATA
from born_assets_tests.planted import contamination_quality


def test_paraphrased_eval_items_are_found_and_unrelated_rows_are_not() -> None:
    quality = contamination_quality(Policy.load(SAMPLE_DATA / "policy.yaml"))
    assert quality["recall"] >= 0.65
    assert quality["unrelated_flagged"] == 0
    assert quality["precision"] == 1.0


def test_nearest_rows_do_not_depend_on_batches_and_carry_forward() -> None:
    """Ties in similarity go to the smaller id, however the rows were batched or seeded."""
    texts = [EvalText(0, n, "evals", f"item-{n}", "prompt") for n in range(3)]
    generator = np.random.default_rng(7)
    similarities = generator.choice([0.0, 0.25, 0.5, 1 / 3], size=(40, 3))
    ids = [f"ex-{n:02d}" for n in generator.permutation(40)]
    origins = [f"lane-{n % 2}" for n in range(40)]

    def listed(batch: int, seed_rows: int = 0) -> list[dict[str, Any]]:
        nearest = NearestRows(limit=4, threshold=0.5)
        start = 0
        if seed_rows:
            earlier = NearestRows(limit=4, threshold=0.5)
            earlier.add(ids[:seed_rows], origins[:seed_rows], similarities[:seed_rows])
            nearest.seed(earlier.table(texts), texts)
            start = seed_rows
        for at in range(start, 40, batch):
            end = at + batch
            nearest.add(ids[at:end], origins[at:end], similarities[at:end])
        return nearest.table(texts).to_pylist()

    whole = listed(40)
    for key, text in enumerate(texts):
        best = sorted(
            (-round(s, 6), i) for s, i in zip(similarities[:, key], ids, strict=True) if s > 0
        )[:4]
        rows = [r for r in whole if r["eval_item_id"] == text.item_id]
        assert [(r["example_id"], r["rank"]) for r in rows] == [
            (i, rank) for rank, (_, i) in enumerate(best, start=1)
        ]
        assert all(r["is_blocked"] == (r["similarity"] >= 0.5) for r in rows)
    assert listed(3) == listed(1) == whole
    assert listed(5, seed_rows=17) == listed(7, seed_rows=30) == whole
