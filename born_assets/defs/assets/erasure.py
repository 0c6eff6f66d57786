"""The `erasure` asset: tombstones for erased rows, stored releases rewritten without them."""

from collections.abc import Sequence

import dagster as dg

from born_assets import layout
from born_assets.defs.assets.curation import DEDUPLICATED_KEY, GATED_KEY
from born_assets.defs.assets.sanitized import SANITIZED_KEY
from born_assets.defs.checks import MAX_EXAMPLES, Check, asset_check, in_words
from born_assets.defs.metadata import counts_table
from born_assets.defs.resources import WarehouseResource
from born_assets.governance.erasure_stage import (
    erase_releases,
    erase_review_sheets,
    erased_lines,
    forget_cached_results,
    record_tombstones,
    survivors,
)
from born_assets.release.similarity_index import build_index
from born_assets.specs.erasure import load_tombstones

ERASURE_KEY = dg.AssetKey(layout.Asset.ERASURE)
GROUP = "governance"
OWNERS = ["team:governance"]


def erasure_asset(sources: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """Record tombstones of every erased line and rewrite the releases that still hold them."""

    @dg.asset(
        key=ERASURE_KEY,
        deps=[DEDUPLICATED_KEY, *sources],
        group_name=GROUP,
        kinds={"duckdb", "parquet"},
        owners=["team:governance"],
        description=(
            "One tombstone per erased row (hashes and request id, never content); every stored "
            "release that still held an erased row is rewritten and re-hashed, every review "
            "sheet that showed one rewritten, and the caches that may quote one emptied."
        ),
    )
    def _erasure(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            dirs = [warehouse.asset_dir(k) for k in sources]
            stones, added = record_tombstones(warehouse.data, erased_lines(con, dirs))
            rewritten = erase_releases(
                con,
                warehouse.data,
                stones,
                lambda version: build_index(
                    warehouse.data, version, warehouse.load_policy(), warehouse.batch_rows, 1
                ),
            )
        sheets = erase_review_sheets(warehouse.data, stones)
        emptied = (
            forget_cached_results(warehouse.data, warehouse.execution_cache_dir) if added else []
        )
        by_request: dict[str, int] = {}
        for stone in stones:
            by_request[stone.request_id] = by_request.get(stone.request_id, 0) + 1
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(stones),
                "tombstones": len(stones),
                "tombstones_added": added,
                "review_sheet_rows_removed": dg.MetadataValue.json(sheets),
                "caches_emptied": dg.MetadataValue.json(emptied),
                "tombstones_by_request": counts_table(by_request, "request_id"),
                "releases_rewritten": dg.MetadataValue.json(
                    [
                        {
                            "release": r.version,
                            "rows_removed": r.rows_removed,
                            "requests": r.requests,
                        }
                        for r in rewritten
                    ]
                ),
            }
        )

    return _erasure


def erasure_checks(sources: Sequence[dg.AssetKey]) -> list[Check]:
    """No erased example survives in any warehouse table or any stored release."""

    @asset_check(
        asset=ERASURE_KEY,
        name="no_erased_row_survives",
        description="No tombstoned example is left in a warehouse table or a release shard.",
        blocking=True,
    )
    def _no_survivors(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        stones = load_tombstones(warehouse.data)
        tables = [
            warehouse.table(k, layout.ROWS)
            for k in (*sources, SANITIZED_KEY, GATED_KEY, DEDUPLICATED_KEY)
        ]
        for release in warehouse.data.published_releases():
            tables += release.shards()
        with warehouse.connect() as con:
            found = survivors(con, tables, stones)
        return dg.AssetCheckResult(
            passed=not found,
            description=in_words(
                len(found),
                "erased examples still present",
                [{"example_id": example, "in": table} for table, example in found],
            ),
            metadata={
                "tombstones": len(stones),
                "tables_checked": len(tables),
                "survivors": len(found),
                "examples": dg.MetadataValue.json([list(f) for f in found[:MAX_EXAMPLES]]),
            },
        )

    return [_no_survivors]
