"""Governance assets: contamination against eval sets, its report, and erasure."""

from collections.abc import Sequence
from typing import Any

import dagster as dg
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.defs.assets.curation import DEDUPLICATED_KEY, GATED_KEY
from born_assets.defs.assets.sanitized import SANITIZED_KEY
from born_assets.defs.checks import MAX_EXAMPLES, schema_check
from born_assets.defs.metadata import column_schema, counts_table, markdown_table
from born_assets.defs.resources import WarehouseResource
from born_assets.governance.contamination import CHECK_MEMO_COLUMNS
from born_assets.governance.contamination_stage import (
    check_candidates,
    contamination_versions,
    report_rows,
)
from born_assets.governance.erasure_stage import (
    erase_releases,
    erased_lines,
    record_tombstones,
    survivors,
)
from born_assets.governance.evals import load_eval_sets
from born_assets.governance.pii import scan
from born_assets.governance.pii_scanner import PiiScanner
from born_assets.governance.pii_stage import PiiMemo, pii_versions, scan_candidates
from born_assets.schemas.fates import ExitRecord
from born_assets.schemas.governance import (
    ContaminationCheckRecord,
    ContaminationMatchRecord,
    ContaminationReportRecord,
    ContaminationVerdictRecord,
    PiiVerdictRecord,
    RedactedTextRecord,
)
from born_assets.specs.erasure import load_tombstones
from born_assets.specs.pii_policy import PiiAction
from born_assets.store.memo import RowMemo, write_versions
from born_assets.store.parquet import iter_parquet_batches

ERASURE_KEY = dg.AssetKey(layout.Asset.ERASURE)
CONTAMINATION_KEY = dg.AssetKey(layout.Asset.CONTAMINATION)
CONTAMINATION_REPORT_KEY = dg.AssetKey("contamination_report")
PII_KEY = dg.AssetKey(layout.Asset.PII)
GROUP = "governance"
OWNERS = ["team:governance"]
REPORT_COLUMNS = ["eval_id", "origin_id", "rows_checked", "rows_excluded", "max_overlap_fraction"]


def contamination_asset(sources: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """Check every candidate training row against every registered eval set."""

    @dg.asset(
        key=CONTAMINATION_KEY,
        deps=[DEDUPLICATED_KEY, SANITIZED_KEY, *sources],
        group_name=GROUP,
        kinds={"python", "duckdb", "parquet"},
        owners=OWNERS,
        description=(
            "One row per candidate training row (dedup survivor): exact, n-gram and task-id "
            "matches against every eval set in data/evals/, and the verdict."
        ),
    )
    def _contamination(warehouse: WarehouseResource) -> dg.MaterializeResult:
        policy = warehouse.load_policy()
        eval_sets, errors = load_eval_sets(warehouse.data)
        if errors:
            raise dg.Failure(description="; ".join(str(e) for e in errors))
        versions = contamination_versions(policy.contamination, eval_sets)
        folder = warehouse.asset_dir(CONTAMINATION_KEY)
        remembered = RowMemo.open(folder, layout.CHECKS, versions, CHECK_MEMO_COLUMNS)
        with warehouse.publish(CONTAMINATION_KEY) as staging, warehouse.connect() as con:
            excluded, overlaps, remembered_rows = check_candidates(
                con,
                deduplicated=warehouse.table(DEDUPLICATED_KEY, layout.ROWS),
                sanitized=warehouse.table(SANITIZED_KEY, layout.ROWS),
                sources=[warehouse.table(k, layout.ROWS) for k in sources],
                eval_sets=eval_sets,
                policy=policy.contamination,
                out_dir=staging,
                batch_rows=warehouse.batch_rows,
                remembered=remembered,
            )
            write_versions(staging, versions)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": _rows(warehouse),
                "dagster/column_schema": column_schema(ContaminationVerdictRecord),
                "eval_sets": [e.eval_id for e in eval_sets],
                "excluded_by_method": counts_table(excluded, "method"),
                "rows_remembered": remembered_rows,
                "generator_overlaps": [str(o) for o in overlaps],
                "policy_sha256": policy.content_hash,
            }
        )

    return _contamination


def _rows(warehouse: WarehouseResource) -> int:
    return int(pq.ParquetFile(warehouse.table(CONTAMINATION_KEY, layout.ROWS)).metadata.num_rows)


def pii_asset() -> dg.AssetsDefinition:
    """Scan every candidate training row for personal data and secrets; redact per policy."""

    @dg.asset(
        key=PII_KEY,
        deps=[DEDUPLICATED_KEY, SANITIZED_KEY],
        group_name=GROUP,
        kinds={"python", "parquet"},
        owners=OWNERS,
        description=(
            "One row per candidate training row: e-mails, phones, IPs, user names, API keys, "
            "private keys, tokens and passwords found, redacted or flagged per policy."
        ),
    )
    def _pii(warehouse: WarehouseResource) -> dg.MaterializeResult:
        policy = warehouse.load_policy()
        versions = pii_versions(policy.pii)
        memo = PiiMemo.open(warehouse.asset_dir(PII_KEY), versions)
        with warehouse.publish(PII_KEY) as staging, warehouse.connect() as con:
            summary = scan_candidates(
                con,
                deduplicated=warehouse.table(DEDUPLICATED_KEY, layout.ROWS),
                sanitized=warehouse.table(SANITIZED_KEY, layout.ROWS),
                policy=policy.pii,
                out_dir=staging,
                batch_rows=warehouse.batch_rows,
                memo=memo,
            )
            write_versions(staging, versions)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": summary.rows,
                "dagster/column_schema": column_schema(PiiVerdictRecord),
                "rows_by_status": counts_table(summary.by_status, "pii_scan_status"),
                "rows_remembered": summary.remembered,
                "redacted_by_kind": counts_table(summary.redacted, "kind"),
                "flagged_by_kind": counts_table(summary.flagged, "kind"),
                "policy_sha256": policy.content_hash,
            }
        )

    return _pii


def pii_checks() -> list[dg.AssetChecksDefinition]:
    """Schemas, and no finding the policy redacts is left in a redacted row."""

    @dg.asset_check(
        asset=PII_KEY,
        name="redactions_complete",
        description="Re-scanning every redacted row finds nothing the policy says to redact.",
        blocking=True,
    )
    def _complete(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        policy = warehouse.load_policy().pii
        scanner = PiiScanner(policy)
        leftovers = []
        path = warehouse.table(PII_KEY, layout.REDACTED)
        for batch in iter_parquet_batches([path], warehouse.batch_rows):
            for row in batch.to_pylist():
                kinds = {
                    f.kind.value
                    for text in (row["prompt"], row["response"])
                    for f in scan(text, scanner)
                    if not f.is_placeholder and policy.actions[f.kind] is PiiAction.REDACT
                }
                if kinds:
                    leftovers.append({"example_id": row["example_id"], "kinds": sorted(kinds)})
        return dg.AssetCheckResult(
            passed=not leftovers,
            metadata={"rows_with_leftovers": len(leftovers), "examples": leftovers[:MAX_EXAMPLES]},
        )

    return [
        schema_check(PII_KEY, layout.ROWS, PiiVerdictRecord),
        schema_check(PII_KEY, layout.REDACTED, RedactedTextRecord),
        _complete,
    ]


def contamination_report_asset() -> dg.AssetsDefinition:
    """The contamination report: per eval set and source, rows checked and excluded."""

    @dg.asset(
        key=CONTAMINATION_REPORT_KEY,
        deps=[CONTAMINATION_KEY],
        group_name=GROUP,
        kinds={"parquet"},
        owners=OWNERS,
        description=(
            "One row per eval set and lane or import: rows checked, rows excluded by method, "
            "the strongest matches (also printed by `born contamination`)."
        ),
    )
    def _report(warehouse: WarehouseResource) -> dg.MaterializeResult:
        rows = report_rows(warehouse.asset_dir(CONTAMINATION_KEY))
        schema = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in REPORT_COLUMNS])
        records = [dg.TableRecord({c: str(r[c]) for c in REPORT_COLUMNS}) for r in rows]
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(rows),
                "dagster/column_schema": column_schema(ContaminationReportRecord),
                "report": dg.MetadataValue.table(records, schema=schema),
                "markdown": dg.MetadataValue.md(markdown_table(rows, REPORT_COLUMNS)),
            }
        )

    return _report


def contamination_checks() -> list[dg.AssetChecksDefinition]:
    """Schemas, and the generator-overlap report as a failing (non-blocking) check."""

    @dg.asset_check(
        asset=CONTAMINATION_KEY,
        name="no_generator_overlap",
        description=(
            "No eval set was generated by a model that also generated training rows "
            "(contaminated by construction); fails naming the models."
        ),
    )
    def _generator_overlap(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        eval_sets, _ = load_eval_sets(warehouse.data)
        generators = {e.eval_id: e.spec.generator_model for e in eval_sets}
        overlaps: list[dict[str, Any]] = []
        for row in report_rows(warehouse.asset_dir(CONTAMINATION_KEY)):
            if row["generator_overlap_rows"]:
                overlaps.append(
                    {
                        "eval_id": row["eval_id"],
                        "generator_model": generators.get(row["eval_id"]),
                        "origin_id": row["origin_id"],
                        "rows": row["generator_overlap_rows"],
                    }
                )
        return dg.AssetCheckResult(
            passed=not overlaps,
            metadata={"overlaps": dg.MetadataValue.json(overlaps)},
            description="; ".join(
                f"eval set {o['eval_id']} was generated by {o['generator_model']}, which also "
                f"generated {o['rows']} rows of {o['origin_id']}"
                for o in overlaps
            )
            or None,
        )

    return [
        schema_check(CONTAMINATION_KEY, layout.ROWS, ContaminationVerdictRecord),
        schema_check(CONTAMINATION_KEY, layout.MATCHES, ContaminationMatchRecord),
        schema_check(CONTAMINATION_KEY, layout.REPORT, ContaminationReportRecord),
        schema_check(CONTAMINATION_KEY, layout.EXITS, ExitRecord),
        schema_check(CONTAMINATION_KEY, layout.CHECKS, ContaminationCheckRecord),
        _generator_overlap,
    ]


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
            "release that still held an erased row is rewritten and re-hashed."
        ),
    )
    def _erasure(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            dirs = [warehouse.asset_dir(k) for k in sources]
            stones = record_tombstones(warehouse.data, erased_lines(con, dirs))
            rewritten = erase_releases(con, warehouse.data, stones)
        by_request: dict[str, int] = {}
        for stone in stones:
            by_request[stone.request_id] = by_request.get(stone.request_id, 0) + 1
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(stones),
                "tombstones": len(stones),
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


def erasure_checks(sources: Sequence[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """No erased example survives in any warehouse table or any stored release."""

    @dg.asset_check(
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
            metadata={
                "tombstones": len(stones),
                "tables_checked": len(tables),
                "survivors": len(found),
                "examples": dg.MetadataValue.json([list(f) for f in found[:MAX_EXAMPLES]]),
            },
        )

    return [_no_survivors]
