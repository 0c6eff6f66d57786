"""The reports a release folder carries besides its rows: PII findings per row and kind.

The contamination report of a release reuses `ContaminationMatchRecord` (schemas/governance).
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.vocabulary import PiiKind, PiiScanStatus, values


class PiiFindingRecord(pa.DataFrameModel):
    """One row per released example, PII kind and action: how many findings the scan made.

    Counts only: never the matched text. A released row with no finding has no row here.
    """

    example_id: Series[str] = pa.Field(description="The released example.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    kind: Series[str] = pa.Field(isin=values(PiiKind), description="What was found.")
    is_secret: Series[bool] = pa.Field(
        description="A key, private key, token or password (as opposed to personal data)."
    )
    action: Series[str] = pa.Field(
        isin=["redacted", "flagged", "placeholder"],
        description="redacted (replaced by a typed placeholder), flagged (kept in the text and "
        "counted) or placeholder (a value that is not real, left alone).",
    )
    findings: Series[int] = pa.Field(ge=1, description="Findings of this kind and action.")
    pii_scan_status: Series[str] = pa.Field(
        isin=values(PiiScanStatus), description="The row's scan status (as released)."
    )

    class Config:
        """Unique key."""

        unique = ["example_id", "kind", "action"]
