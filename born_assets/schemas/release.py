"""The released rows: the lineage record with the sanitized closure text and its score."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.columns import ConversationColumns
from born_assets.schemas.execution import ExecutionStatus, Isolation
from born_assets.schemas.ingest import LineageRecord
from born_assets.schemas.vocabulary import ResponseFormat, values


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


class SimilarityIndexRecord(pa.DataFrameModel):
    """One row per example of a release's similarity index: where it came from, a preview.

    Row i's MinHash signature is row i of the index's `signatures.npy`.
    """

    example_id: Series[str] = pa.Field(unique=True, description="The released example.")
    origin_kind: Series[str] = pa.Field(description="`lane` or `import`.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")
    teacher_model: Series[str] = pa.Field(description="Who produced the response.")
    source_benchmark: Series[str] = pa.Field(description="Benchmark family or dataset family.")
    source_file: Series[str] = pa.Field(description="Input file, relative to the data dir.")
    source_line: Series[int] = pa.Field(ge=1, description="1-based line number in the file.")
    preview: Series[str] = pa.Field(
        description="The indexed text on one line, whitespace collapsed, cut at 120 characters."
    )
    has_shingles: Series[bool] = pa.Field(
        description="False when the text has no word: the row is similar to nothing."
    )
