"""Paraphrased eval items slip past 13-word n-grams; the similarity check must catch them.

Reworded and renamed copies of the repo's HumanEval and MBPP items (`born_assets_tests.planted`)
are compared with the eval sets at the policy's threshold; unrelated real tasks (BigCodeBench,
SWE-bench Lite) must not be flagged. The figures are the ones docs/similarity.md reports.
"""

from born_assets.specs.policy import Policy
from born_assets_tests.conftest import SAMPLE_DATA
from born_assets_tests.planted import contamination_quality


def test_paraphrased_eval_items_are_found_and_unrelated_rows_are_not() -> None:
    quality = contamination_quality(Policy.load(SAMPLE_DATA / "policy.yaml"))
    assert quality["recall"] >= 0.65
    assert quality["unrelated_flagged"] == 0
    assert quality["precision"] == 1.0
