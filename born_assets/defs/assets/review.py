"""The `human_reviews` asset: the latest human verdict per example, from imported review sheets."""

import dagster as dg
import pyarrow as pa

from born_assets import layout
from born_assets.defs.checks import Check, schema_check
from born_assets.defs.metadata import column_schema
from born_assets.defs.resources import WarehouseResource
from born_assets.review.records import load_review_table
from born_assets.schemas.review import HumanReviewRecord
from born_assets.store.parquet import ParquetSink

HUMAN_REVIEWS_KEY = dg.AssetKey(layout.Asset.HUMAN_REVIEWS)
GROUP = "governance"


def human_reviews_asset() -> dg.AssetsDefinition:
    """The review table, built per code location (a module-level asset would load twice)."""

    @dg.asset(
        key=HUMAN_REVIEWS_KEY,
        group_name=GROUP,
        kinds={"pandas", "parquet"},
        owners=["team:governance"],
        description=(
            "One row per reviewed example: its latest human verdict (approved, rejected, "
            "needs_review), reviewer and time, and the hashes of the text reviewed. Input: the "
            "verdicts `born review import` stored under reviews/records/."
        ),
    )
    def _human_reviews(warehouse: WarehouseResource) -> dg.MaterializeResult:
        """Merge every stored review import into the review table."""
        table = load_review_table(warehouse.data.review_records)
        with (
            warehouse.publish(HUMAN_REVIEWS_KEY) as staging,
            ParquetSink(staging / layout.ROWS, HumanReviewRecord) as sink,
        ):
            sink.write_batch(pa.Table.from_pandas(table, preserve_index=False))
        verdicts = table["human_review_status"].value_counts().sort_index()
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(table),
                "dagster/column_schema": column_schema(HumanReviewRecord),
                "verdicts": {str(k): int(v) for k, v in verdicts.items()},
                "records_dir": dg.MetadataValue.path(str(warehouse.data.review_records)),
            }
        )

    return _human_reviews


def human_reviews_checks() -> list[Check]:
    """The review table matches its schema (one verdict per example)."""
    return [schema_check(HUMAN_REVIEWS_KEY, layout.ROWS, HumanReviewRecord)]
