"""The `gated` and `deduplicated` assets: gates, curation score and prompt dedup."""

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from born_assets import layout
from born_assets.curation.dedup_stage import (
    DedupInputs,
    DedupSummary,
    deduplicate,
    duplicates_without_survivor,
)
from born_assets.curation.near_dedup import SIGNATURE_COLUMNS
from born_assets.curation.stage import VERDICT_COLUMNS, GateSummary, gate, gate_versions
from born_assets.defs.assets.sanitized import SANITIZED_KEY
from born_assets.defs.checks import (
    MAX_EXAMPLES,
    Check,
    in_words,
    reconcile_result,
    remembered_check,
    schema_check,
)
from born_assets.defs.metadata import (
    column_schema,
    counts_table,
    markdown_table,
    passthrough_lineage,
    preview,
)
from born_assets.defs.resources import WarehouseResource
from born_assets.defs.unchanged import remember_result, remembered_result
from born_assets.schemas.curation import (
    DeduplicatedRecord,
    GatedRecord,
    NearDuplicateRecord,
    SanitizedRecord,
)
from born_assets.schemas.fates import ExitRecord
from born_assets.store.conservation import Flow, RowFilter, unreconciled_flow
from born_assets.store.memo import RowMemo, code_version, write_versions
from born_assets.store.unchanged import record

GATED_KEY = dg.AssetKey(layout.Asset.GATED)
DEDUPLICATED_KEY = dg.AssetKey(layout.Asset.DEDUPLICATED)
GROUP = "curation"
OWNERS = ["team:data-eng"]


def _score_quartiles(warehouse: WarehouseResource) -> dg.MetadataValue:
    """Distribution of curation_score per source (rows that passed the gates)."""
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT origin_id, count(*) AS rows, round(avg(curation_score), 3) AS mean, "
            "round(quantile_cont(curation_score, 0.25), 3) AS p25, "
            "round(quantile_cont(curation_score, 0.5), 3) AS median, "
            "round(quantile_cont(curation_score, 0.75), 3) AS p75 "
            "FROM read_parquet($p) WHERE NOT is_gated_out GROUP BY origin_id ORDER BY origin_id",
            {"p": warehouse.table(GATED_KEY, layout.ROWS).as_posix()},
        ).fetchall()
    columns = ["origin_id", "rows", "mean", "p25", "median", "p75"]
    return dg.MetadataValue.md(
        markdown_table([dict(zip(columns, r, strict=True)) for r in rows], columns)
    )


def _gated_out_table(summary: GateSummary) -> dg.MetadataValue:
    columns = ["origin_id", "gate", "reason", "rows"]
    rows = [
        {"origin_id": o, "gate": g, "reason": r, "rows": n}
        for (o, g, r), n in sorted(summary.gated_out.items())
    ]
    return dg.MetadataValue.md(markdown_table(rows, columns))


def gated_asset() -> dg.AssetsDefinition:
    """Gate every sanitized row: measurements, verdicts with named reasons, curation_score."""

    @dg.asset(
        key=GATED_KEY,
        deps=[SANITIZED_KEY],
        group_name=GROUP,
        kinds={"python", "duckdb", "parquet"},
        owners=OWNERS,
        description=(
            "One row per sanitized example: structural, format and length measurements, each "
            "gate's verdict with a named reason and threshold, and curation_score."
        ),
    )
    def _gated(warehouse: WarehouseResource) -> dg.MaterializeResult:
        policy = warehouse.load_policy()
        inputs = [warehouse.table(SANITIZED_KEY, layout.ROWS)]
        versions = gate_versions(policy)
        unchanged = remembered_result(warehouse, warehouse.asset_dir(GATED_KEY), inputs, versions)
        if unchanged is not None:
            return unchanged
        memo = RowMemo.open(warehouse.asset_dir(GATED_KEY), layout.ROWS, versions, VERDICT_COLUMNS)
        with warehouse.publish(GATED_KEY) as staging:
            workers = warehouse.worker_count(inputs)
            summary = gate(inputs, policy, staging, warehouse.batch_rows, workers, memo)
            write_versions(staging, versions)
            step = record(staging, inputs, versions)
        gated_out = sum(summary.gated_out.values())
        path = warehouse.table(GATED_KEY, layout.ROWS)
        return remember_result(
            warehouse,
            warehouse.asset_dir(GATED_KEY),
            step,
            {
                "dagster/row_count": summary.rows_in,
                "dagster/column_schema": column_schema(GatedRecord),
                "dagster/column_lineage": passthrough_lineage(
                    GatedRecord, [(SANITIZED_KEY, SanitizedRecord)]
                ),
                "policy_sha256": policy.content_hash,
                "rows_in": summary.rows_in,
                "rows_remembered": summary.remembered,
                "rows_passed": summary.rows_in - gated_out,
                "rows_gated_out": gated_out,
                "gated_out_by_source_gate_reason": _gated_out_table(summary),
                "soft_failures_by_reason": counts_table(summary.soft, "reason"),
                "curation_score_by_source": _score_quartiles(warehouse),
                "preview": preview(
                    path,
                    [
                        "example_id",
                        "origin_id",
                        "is_gated_out",
                        "gated_out_reason",
                        "curation_score",
                    ],
                ),
                "path": dg.MetadataValue.path(str(path)),
            },
        )

    return _gated


def deduplicated_asset(sources: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """Exact dedup on prompt_hash across every source, then near-dedup, one survivor order.

    Near-dedup is part of this asset, not one of its own: both decide the same fate (`duplicate`)
    by the same survivor rule over the same rows, and every stage after reads the survivors.
    """

    @dg.asset(
        key=DEDUPLICATED_KEY,
        deps=[GATED_KEY, SANITIZED_KEY, *sources],
        group_name=GROUP,
        kinds={"duckdb", "parquet", "python"},
        owners=OWNERS,
        description=(
            "One row per example that passed the gates and survived dedup: exact dedup on "
            "prompt_hash across all lanes and imports, then MinHash near-dedup of the survivors "
            "(near_duplicates.parquet), each cluster's survivor chosen by the policy's order."
        ),
    )
    def _deduplicated(warehouse: WarehouseResource) -> dg.MaterializeResult:
        policy = warehouse.load_policy()
        sanitized = warehouse.table(SANITIZED_KEY, layout.ROWS)
        gated = warehouse.table(GATED_KEY, layout.ROWS)
        source_rows = [warehouse.table(k, layout.ROWS) for k in sources]
        read = [gated, sanitized, *source_rows]
        versions = {"code": code_version(), "policy": policy.content_hash}
        unchanged = remembered_result(
            warehouse, warehouse.asset_dir(DEDUPLICATED_KEY), read, versions
        )
        if unchanged is not None:
            return unchanged
        folder = warehouse.asset_dir(DEDUPLICATED_KEY)
        signatures = RowMemo.open(folder, layout.SIGNATURES, versions, SIGNATURE_COLUMNS)
        with warehouse.publish(DEDUPLICATED_KEY) as staging, warehouse.connect() as con:
            inputs = DedupInputs(
                sanitized=sanitized,
                policy=policy,
                out_dir=staging,
                batch_rows=warehouse.batch_rows,
                signatures=signatures,
                workers=warehouse.worker_count([sanitized]),
            )
            summary = deduplicate(con, gated, source_rows, inputs)
            write_versions(staging, versions)
            step = record(staging, read, versions)
        metadata = _dedup_metadata(summary, warehouse, policy.content_hash)
        return remember_result(warehouse, warehouse.asset_dir(DEDUPLICATED_KEY), step, metadata)

    return _deduplicated


def _dedup_metadata(
    summary: DedupSummary, warehouse: WarehouseResource, policy_hash: str
) -> dict[str, Any]:
    exits = warehouse.table(DEDUPLICATED_KEY, layout.EXITS)
    return {
        "dagster/row_count": summary.survivors,
        "dagster/column_schema": column_schema(DeduplicatedRecord),
        "dagster/column_lineage": passthrough_lineage(
            DeduplicatedRecord, [(GATED_KEY, GatedRecord), (SANITIZED_KEY, SanitizedRecord)]
        ),
        "policy_sha256": policy_hash,
        "rows_in": summary.rows_in,
        "survivors": summary.survivors,
        "duplicates_by_source": counts_table(Counter(summary.duplicates), "origin_id"),
        "near_duplicates_by_source": counts_table(Counter(summary.near_duplicates), "origin_id"),
        "exact_dedup_seconds": round(summary.exact_seconds, 3),
        "near_dedup_seconds": round(summary.near_seconds, 3),
        "signatures_remembered": summary.signatures_remembered,
        "duplicates_preview": preview(exits, ["example_id", "origin_id", "reason", "detail"]),
        "near_duplicates_preview": preview(
            warehouse.table(DEDUPLICATED_KEY, layout.NEAR_DUPLICATES),
            ["example_id", "origin_id", "duplicate_of", "estimated_similarity"],
        ),
        "path": dg.MetadataValue.path(str(warehouse.table(DEDUPLICATED_KEY, layout.ROWS))),
    }


def _reconcile_check(
    key: dg.AssetKey, upstream: dg.AssetKey, description: str, inflow: RowFilter
) -> Check:
    """Per source file: the rows `inflow` counts upstream = this asset's kept rows + its exits."""

    def reads(warehouse: WarehouseResource) -> list[Path]:
        return [
            warehouse.table(upstream, layout.ROWS),
            warehouse.table(key, layout.ROWS),
            warehouse.table(key, layout.EXITS),
        ]

    @remembered_check(asset=key, name="rows_reconcile", description=description, reads=reads)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        kept = RowFilter.PASSED_GATES if key == GATED_KEY else RowFilter.ALL
        upstream_rows, rows, exits = reads(warehouse)
        outflow = [Flow([rows], kept), Flow([exits])]
        with warehouse.connect() as con:
            return reconcile_result(unreconciled_flow(con, Flow([upstream_rows], inflow), outflow))

    return _check


def curation_checks() -> list[Check]:
    """Schemas, conservation per source, unique prompts, and named reasons and survivors."""

    def reads(warehouse: WarehouseResource) -> list[Path]:
        folder = warehouse.asset_dir(DEDUPLICATED_KEY)
        tables = (layout.ROWS, layout.EXITS, layout.NEAR_DUPLICATES)
        return [*(folder / t for t in tables), warehouse.table(GATED_KEY, layout.ROWS)]

    @remembered_check(
        asset=DEDUPLICATED_KEY,
        name="duplicates_name_their_survivor",
        description=(
            "Every duplicate names the row it duplicates: one with the same prompt hash (exact; "
            "kept, or itself a near duplicate of a kept row), or a kept row listed with an "
            "estimated similarity >= near_dedup.threshold (near)."
        ),
        reads=reads,
        reads_policy=True,
    )
    def _survivors(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            bad = duplicates_without_survivor(
                con,
                warehouse.asset_dir(DEDUPLICATED_KEY),
                warehouse.table(GATED_KEY, layout.ROWS),
                warehouse.load_policy(),
            )
        return dg.AssetCheckResult(
            passed=not bad,
            description=in_words(len(bad), "duplicates whose survivor is not kept", bad),
            metadata={
                "duplicates_without_survivor": len(bad),
                "examples": [list(b) for b in bad[:MAX_EXAMPLES]],
            },
        )

    return [
        schema_check(GATED_KEY, layout.ROWS, GatedRecord),
        schema_check(GATED_KEY, layout.EXITS, ExitRecord),
        _reconcile_check(
            GATED_KEY,
            SANITIZED_KEY,
            "Per source file: sanitized rows = rows that passed the gates + gated_out.",
            inflow=RowFilter.ALL,
        ),
        schema_check(DEDUPLICATED_KEY, layout.ROWS, DeduplicatedRecord),
        schema_check(DEDUPLICATED_KEY, layout.EXITS, ExitRecord),
        schema_check(DEDUPLICATED_KEY, layout.NEAR_DUPLICATES, NearDuplicateRecord),
        _reconcile_check(
            DEDUPLICATED_KEY,
            GATED_KEY,
            "Per source file: rows that passed the gates = deduplicated + duplicate.",
            inflow=RowFilter.PASSED_GATES,
        ),
        _survivors,
    ]
