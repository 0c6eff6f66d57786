"""The review table: the latest human verdict per example and the text it was given on."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.columns import EXAMPLE_ID, SHA256_HEX, UTC
from born_assets.schemas.vocabulary import ReviewStatus


class HumanReviewRecord(pa.DataFrameModel):
    """One row per reviewed example: its latest human verdict and the exact text it was given on.

    Imported from review sheets (`born review import`). A verdict applies to a row only while
    the row's `prompt_hash` and the SHA-256 of its sanitized response are those the reviewer saw.
    Unique key: `example_id`.
    """

    example_id: Series[str] = pa.Field(
        unique=True, str_matches=EXAMPLE_ID, description="The reviewed example."
    )
    human_review_status: Series[str] = pa.Field(
        isin=[s.value for s in ReviewStatus if s is not ReviewStatus.UNREVIEWED],
        description="approved, rejected or needs_review (the latest verdict).",
    )
    reviewer_id: Series[str] = pa.Field(
        str_length={"min_value": 1}, description="Who gave the verdict."
    )
    reviewed_at: Series[pd.DatetimeTZDtype] = pa.Field(
        description="When the verdict was imported (UTC).", dtype_kwargs=UTC
    )
    prompt_hash: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="prompt_hash of the row the reviewer saw."
    )
    response_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the sanitized response the reviewer saw."
    )
    review_sheet: Series[str] = pa.Field(description="File name of the sheet the verdict came in.")
    review_sheet_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of that sheet's bytes as imported."
    )
    notes: Series[str] = pa.Field(nullable=True, description="The reviewer's note, if any.")
