"""curation_score ranks examples and picks dedup survivors, so it must follow its formula exactly.

The formula (in `born_assets.curation.score`) is pinned with hand-computed values; the batch
function must agree with the scalar one on every row, stay in [0, 1], and only go down when a
soft failure or a shared response is added.
"""

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from born_assets.curation.gates import evaluate_gates
from born_assets.curation.score import curation_score, curation_scores
from born_assets.specs.policy import Policy
from born_assets_tests.conftest import SAMPLE_DATA

POLICY_PATH = SAMPLE_DATA / "policy.yaml"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(POLICY_PATH)


# weights in data/policy.yaml: plan 0.2, code 0.4, checks 0.25, result 0.15;
# soft_failure_factor 0.5; response_duplicate_weight 0.5
SCORE_CASES: list[tuple[dict[str, Any], float]] = [
    ({"has_plan": True, "has_code": True, "has_checks": True, "has_result": True}, 1.0),
    ({"has_plan": False, "has_code": True, "has_checks": False, "has_result": False}, 0.4),
    ({"has_plan": True, "has_code": True, "has_checks": False, "has_result": True}, 0.75),
    ({"has_plan": False, "has_code": False, "has_checks": False, "has_result": False}, 0.0),
    ({"has_plan": True, "has_code": True, "has_checks": True, "has_result": True,
      "soft_failure_count": 1}, 0.5),
    ({"has_plan": True, "has_code": True, "has_checks": True, "has_result": True,
      "soft_failure_count": 2}, 0.25),
    ({"has_plan": True, "has_code": True, "has_checks": True, "has_result": True,
      "other_prompts_sharing_response": 1}, 0.666667),
    ({"has_plan": True, "has_code": True, "has_checks": True, "has_result": True,
      "other_prompts_sharing_response": 3}, 0.4),
    ({"has_plan": False, "has_code": True, "has_checks": True, "has_result": False,
      "soft_failure_count": 1, "other_prompts_sharing_response": 2}, 0.1625),
    ({"has_plan": True, "has_code": True, "has_checks": True, "has_result": True,
      "is_gated_out": True}, 0.0),
]  # fmt: skip


@pytest.mark.parametrize(("inputs", "expected"), SCORE_CASES)
def test_formula(policy: Policy, inputs: dict[str, Any], expected: float) -> None:
    assert curation_score(policy, **inputs) == expected


def _verdicts(rows: list[dict[str, Any]]) -> pa.Table:
    columns = ("has_plan", "has_code", "has_checks", "has_result")
    return pa.table(
        {
            **{name: [row.get(name, False) for row in rows] for name in columns},
            "soft_failure_count": pa.array(
                [row.get("soft_failure_count", 0) for row in rows], pa.int32()
            ),
            "is_gated_out": [row.get("is_gated_out", False) for row in rows],
        }
    )


def test_batch_matches_scalar_on_the_table_cases(policy: Policy) -> None:
    rows = [inputs for inputs, _ in SCORE_CASES]
    duplicates = [row.get("other_prompts_sharing_response", 0) for row in rows]
    scores = curation_scores(_verdicts(rows), policy, pa.array(duplicates))
    assert scores.type == pa.float64()
    assert scores.to_pylist() == [expected for _, expected in SCORE_CASES]


def test_duplicate_counts_from_a_column_or_a_list(policy: Policy) -> None:
    rows = [inputs for inputs, _ in SCORE_CASES]
    duplicates = [row.get("other_prompts_sharing_response", 0) for row in rows]
    verdicts = _verdicts(rows)
    with_column = verdicts.append_column("other_prompts_sharing_response", pa.array(duplicates))
    expected = [value for _, value in SCORE_CASES]
    assert curation_scores(with_column, policy).to_pylist() == expected
    assert curation_scores(verdicts, policy, duplicates).to_pylist() == expected


def test_missing_duplicate_counts_mean_zero(policy: Policy) -> None:
    full = {"has_plan": True, "has_code": True, "has_checks": True, "has_result": True}
    assert curation_scores(_verdicts([full]), policy).to_pylist() == [1.0]


def test_misaligned_duplicate_counts_are_an_error(policy: Policy) -> None:
    with pytest.raises(ValueError, match="not aligned"):
        curation_scores(_verdicts([{}, {}]), policy, [0])


def test_scores_gates_output_directly(policy: Policy) -> None:
    response = (
        "## Plan\nAdd one.\n\n## Code\n```python\ndef f(x):\n    return x + 1\n```\n\n"
        "## Checks\n_Not present in the source._\n\n## Result\nReturns x + 1.\n"
    )
    rows = [
        {"example_id": "a", "benchmark_family": "humaneval", "prompt": "Write f(x) = x + 1 now.",
         "response": response},
        {"example_id": "b", "benchmark_family": "humaneval", "prompt": "short",
         "response": response},
    ]  # fmt: skip
    scores = curation_scores(evaluate_gates(rows, policy), policy).to_pylist()
    assert scores == [0.75, 0.0]


_flags = st.booleans()


@settings(max_examples=200, deadline=None)
@given(_flags, _flags, _flags, _flags, st.integers(0, 6), st.integers(0, 50))
def test_score_is_bounded_and_penalties_only_lower_it(
    policy: Policy,
    has_plan: bool,
    has_code: bool,
    has_checks: bool,
    has_result: bool,
    soft: int,
    shared: int,
) -> None:
    sections = {
        "has_plan": has_plan,
        "has_code": has_code,
        "has_checks": has_checks,
        "has_result": has_result,
    }
    score = curation_score(
        policy, **sections, soft_failure_count=soft, other_prompts_sharing_response=shared
    )
    assert 0.0 <= score <= 1.0
    assert score >= curation_score(
        policy, **sections, soft_failure_count=soft + 1, other_prompts_sharing_response=shared
    )
    assert score >= curation_score(
        policy, **sections, soft_failure_count=soft, other_prompts_sharing_response=shared + 1
    )
    batch = curation_scores(_verdicts([{**sections, "soft_failure_count": soft}]), policy, [shared])
    assert batch.to_pylist() == [score]
