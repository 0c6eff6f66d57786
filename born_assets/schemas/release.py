"""The released rows: the lineage record with the sanitized closure text and its score."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.columns import ConversationColumns
from born_assets.schemas.ingest import LineageRecord
from born_assets.schemas.vocabulary import ResponseFormat


class ReleaseRecord(ConversationColumns, LineageRecord):
    """One row per released example: the full lineage record, its messages and closure text.

    `messages` is the conversation to train on; `response` is the closure text rendered from the
    same visible turns (`born_assets.sanitize.closure`).
    """

    response: Series[str] = pa.Field(
        description=(
            "The visible response as closure text (## Plan, ## Code or ## Patch, ## Checks, "
            "## Result), rendered from the same turns as `messages`."
        )
    )
    response_format: Series[str] = pa.Field(
        isin=[ResponseFormat.CLOSURE.value], description="Always `closure` in a release."
    )
    curation_score: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Curation score in [0, 1] from the gates (see the policy).",
    )
