"""The released rows: the lineage record with the sanitized closure text and its score."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.execution import ExecutionStatus, Isolation
from born_assets.schemas.ingest import LineageRecord
from born_assets.schemas.vocabulary import ResponseFormat, values


class ReleaseRecord(LineageRecord):
    """One row per released example: the full lineage record with the sanitized closure text."""

    response_format: Series[str] = pa.Field(
        isin=[ResponseFormat.CLOSURE.value], description="Always `closure` in a release."
    )
    curation_score: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Curation score in [0, 1] from the gates (see the policy).",
    )
    execution_status: Series[str] = pa.Field(
        isin=values(ExecutionStatus),
        description=(
            "The row's code run against its task's tests in a sandbox: passed, failed, error, "
            "timeout, or not_executable (imports, lanes without tests, patches)."
        ),
    )
    tests_passed: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="Tests that passed, where the harness counts them."
    )
    tests_total: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="Tests the harness ran or meant to run."
    )
    execution_isolation: Series[str] = pa.Field(
        isin=values(Isolation),
        description=(
            "How the run was contained: bwrap (namespaces, read-only system, no network, data "
            "dir hidden, limits), limits (resource limits only), none (not run)."
        ),
    )
