"""curation_score: one number in [0, 1] per example, a documented function of its measurements.

    completeness = (w_plan·has_plan + w_code·has_code + w_checks·has_checks + w_result·has_result)
                   / (w_plan + w_code + w_checks + w_result)
    soft         = soft_failure_factor ** soft_failure_count
    duplication  = 1 / (1 + response_duplicate_weight · other_prompts_sharing_response)
    curation_score = 0                                              if is_gated_out
                   = round(completeness · soft · duplication, 6)    otherwise

- `has_<section>` (from the gates) is 1 when the closure section is present and holds more than
  the absent marker, else 0; the weights `w_*` are `score.section_weights`. A response with a
  plan, code, checks and a result scores 1 before penalties.
- `soft_failure_count` is the number of soft gate reasons that fired (`gates.reason_severity`
  and `gates.severity` decide which reasons are soft); each multiplies the score by
  `score.soft_failure_factor`.
- `other_prompts_sharing_response` (from `response_duplicate_counts`) is how many other prompts
  have exactly the same normalized response: a copied answer is worth less, but is not dropped.
- Rows a hard gate rejected score 0, so they can never win a dedup group.
- Rounding to 6 decimals keeps the ordering used by dedup free of float noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from born_assets.specs.policy import Policy
from born_assets.text.closure import Section

_HAS_COLUMNS = ("has_plan", "has_code", "has_checks", "has_result")
_SECTIONS = (Section.PLAN, Section.CODE, Section.CHECKS, Section.RESULT)
DUPLICATES_COLUMN = "other_prompts_sharing_response"


def _parameters(policy: Policy) -> tuple[tuple[float, ...], float, float, float]:
    weights = policy.score.section_weights
    return (
        tuple(weights[section] for section in _SECTIONS),
        sum(weights[section] for section in _SECTIONS),
        policy.score.soft_failure_factor,
        policy.score.response_duplicate_weight,
    )


def _score(
    has: tuple[bool | None, bool | None, bool | None, bool | None],
    soft_failure_count: int,
    other_prompts_sharing_response: int,
    parameters: tuple[tuple[float, ...], float, float, float],
) -> float:
    weights, total, soft_factor, duplicate_weight = parameters
    completeness = sum(weight for weight, flag in zip(weights, has, strict=True) if flag) / total
    soft = soft_factor**soft_failure_count
    duplication = 1 / (1 + duplicate_weight * other_prompts_sharing_response)
    return round(completeness * soft * duplication, 6)


def curation_score(
    policy: Policy,
    *,
    has_plan: bool,
    has_code: bool,
    has_checks: bool,
    has_result: bool,
    soft_failure_count: int = 0,
    other_prompts_sharing_response: int = 0,
    is_gated_out: bool = False,
) -> float:
    """The curation_score of one example (formula in the module docstring)."""
    if is_gated_out:
        return 0.0
    has = (has_plan, has_code, has_checks, has_result)
    return _score(has, soft_failure_count, other_prompts_sharing_response, _parameters(policy))


def curation_scores(
    verdicts: pa.Table,
    policy: Policy,
    other_prompts_sharing_response: pa.Array | pa.ChunkedArray | Sequence[int] | None = None,
) -> pa.Array:
    """The curation_score of every row of a gates table.

    Args:
        verdicts: Output of `evaluate_gates` (at least `has_plan`, `has_code`, `has_checks`,
            `has_result`, `soft_failure_count`, `is_gated_out`).
        policy: Supplies `score.*`.
        other_prompts_sharing_response: Per row, aligned with `verdicts`; when omitted, the
            column of that name in `verdicts` is used if present, else 0 for every row.

    Returns:
        A float64 array aligned with `verdicts`.
    """
    parameters = _parameters(policy)
    duplicates: list[int | None]
    if other_prompts_sharing_response is not None:
        if isinstance(other_prompts_sharing_response, pa.Array | pa.ChunkedArray):
            duplicates = other_prompts_sharing_response.to_pylist()
        else:
            duplicates = list(other_prompts_sharing_response)
    elif DUPLICATES_COLUMN in verdicts.column_names:
        duplicates = verdicts.column(DUPLICATES_COLUMN).to_pylist()
    else:
        duplicates = [0] * verdicts.num_rows
    if len(duplicates) != verdicts.num_rows:
        raise ValueError("other_prompts_sharing_response is not aligned with verdicts")
    has = zip(*(verdicts.column(name).to_pylist() for name in _HAS_COLUMNS), strict=True)
    rows = zip(
        has,
        verdicts.column("soft_failure_count").to_pylist(),
        duplicates,
        verdicts.column("is_gated_out").to_pylist(),
        strict=True,
    )
    scores = [
        0.0 if gated else _score(flags, soft or 0, duplicate or 0, parameters)
        for flags, soft, duplicate, gated in rows
    ]
    return pa.array(scores, pa.float64())
