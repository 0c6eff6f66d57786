"""What a review verdict allows: the rule a release applies, in Python and in SQL.

A row a human rejected is never released. A release whose use is listed in the policy's
`review.required_for` (e.g. `[eval]`) takes only rows a human approved; every other row of such
a release is withheld with the reason `review_required`. A verdict counts only while the row's
`prompt_hash` and response hash are those the reviewer saw (the join in `REVIEW_JOIN_SQL`).
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from born_assets.schemas.vocabulary import ReviewStatus


class ReviewBlock(StrEnum):
    """Why review keeps a row out of a release."""

    HUMAN_REJECTED = "human_rejected"
    REVIEW_REQUIRED = "review_required"


def review_block(status: str | None, use: str, required_for: Collection[str]) -> ReviewBlock | None:
    """The reason review keeps a row out of a release for `use`, or None."""
    status = status or ReviewStatus.UNREVIEWED.value
    if status == ReviewStatus.REJECTED.value:
        return ReviewBlock.HUMAN_REJECTED
    if use in required_for and status != ReviewStatus.APPROVED.value:
        return ReviewBlock.REVIEW_REQUIRED
    return None


NO_REVIEWS_SQL = """(
    SELECT NULL::VARCHAR AS example_id, NULL::VARCHAR AS human_review_status,
           NULL::VARCHAR AS reviewer_id, NULL::TIMESTAMPTZ AS reviewed_at,
           NULL::VARCHAR AS prompt_hash, NULL::VARCHAR AS response_sha256
    WHERE false
)"""
"""An empty review table, for a warehouse where no review was ever imported."""


def review_join_sql(
    reviews: str = "read_parquet($reviews)",
    *,
    example_id: str = "s.example_id",
    prompt_hash: str = "s.prompt_hash",
    response_sha256: str = "sha256(s.response)",
) -> str:
    """LEFT JOIN of the review table (alias `hr`) onto released rows: a stale verdict misses.

    Args:
        reviews: The review table relation (default: the Parquet file in `$reviews`).
        example_id: SQL for the row's example id.
        prompt_hash: SQL for the row's prompt hash.
        response_sha256: SQL for the SHA-256 (hex) of the response text as it ships (the text
            the sheet showed), e.g. of `coalesce(redacted.response, s.response)` once PII
            redaction rewrites text.
    """
    return (
        f"LEFT JOIN {reviews} AS hr ON hr.example_id = {example_id} "
        f"AND hr.prompt_hash = {prompt_hash} "
        f"AND hr.response_sha256 = {response_sha256}"
    )


REVIEW_COLUMNS_SQL = """
coalesce(hr.human_review_status, 'unreviewed') AS human_review_status,
hr.reviewer_id AS reviewer_id,
hr.reviewed_at AS reviewed_at
"""
"""The release's review columns from the joined review table `hr`."""

REVIEW_BLOCK_SQL = """
CASE WHEN hr.human_review_status = 'rejected' THEN 'human_rejected'
     WHEN list_contains(CAST($review_required_for AS VARCHAR[]), $use)
          AND coalesce(hr.human_review_status, 'unreviewed') <> 'approved'
     THEN 'review_required' END
"""
"""`review_block` in SQL over `hr` (params `$use`, `$review_required_for`): NULL if it may go."""
