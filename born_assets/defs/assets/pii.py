"""The `pii` asset: every candidate row scanned for personal data and secrets, and redacted."""

from pathlib import Path

import dagster as dg

from born_assets import layout
from born_assets.defs.assets.curation import DEDUPLICATED_KEY
from born_assets.defs.assets.sanitized import SANITIZED_KEY
from born_assets.defs.checks import (
    MAX_EXAMPLES,
    Check,
    in_words,
    remembered_check,
    schema_check,
)
from born_assets.defs.metadata import column_schema, counts_table
from born_assets.defs.resources import WarehouseResource
from born_assets.defs.unchanged import remember_result, remembered_result
from born_assets.governance.pii import scan
from born_assets.governance.pii_scanner import PiiScanner
from born_assets.governance.pii_stage import (
    PiiMemo,
    conversation_texts,
    pii_versions,
    scan_candidates,
)
from born_assets.sanitize.stage import sanitized_text_versions
from born_assets.schemas.governance import (
    PiiVerdictRecord,
    RedactedTextRecord,
)
from born_assets.specs.pii_policy import PiiAction
from born_assets.store.memo import write_versions
from born_assets.store.parquet import iter_parquet_batches
from born_assets.store.unchanged import record

PII_KEY = dg.AssetKey(layout.Asset.PII)
GROUP = "governance"
OWNERS = ["team:governance"]


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
        versions = {**pii_versions(policy.pii), **sanitized_text_versions(policy.closure)}
        deduplicated = warehouse.table(DEDUPLICATED_KEY, layout.ROWS)
        sanitized = warehouse.table(SANITIZED_KEY, layout.ROWS)
        read = [deduplicated, sanitized]
        unchanged = remembered_result(warehouse, warehouse.asset_dir(PII_KEY), read, versions)
        if unchanged is not None:
            return unchanged
        memo = PiiMemo.open(warehouse.asset_dir(PII_KEY), versions)
        with warehouse.publish(PII_KEY) as staging:
            summary = scan_candidates(
                deduplicated=deduplicated,
                sanitized=sanitized,
                policy=policy.pii,
                out_dir=staging,
                batch_rows=warehouse.batch_rows,
                memo=memo,
                workers=warehouse.worker_count([deduplicated]),
            )
            write_versions(staging, versions)
            step = record(staging, read, versions)
        return remember_result(
            warehouse,
            warehouse.asset_dir(PII_KEY),
            step,
            {
                "dagster/row_count": summary.rows,
                "dagster/column_schema": column_schema(PiiVerdictRecord),
                "rows_by_status": counts_table(summary.by_status, "pii_scan_status"),
                "rows_remembered": summary.remembered,
                "redacted_by_kind": counts_table(summary.redacted, "kind"),
                "flagged_by_kind": counts_table(summary.flagged, "kind"),
                "policy_sha256": policy.content_hash,
            },
        )

    return _pii


def pii_checks() -> list[Check]:
    """Schemas, and no finding the policy redacts is left in a redacted row."""

    def redacted(warehouse: WarehouseResource) -> list[Path]:
        return [warehouse.table(PII_KEY, layout.REDACTED)]

    @remembered_check(
        asset=PII_KEY,
        name="redactions_complete",
        description="Re-scanning every redacted row finds nothing the policy says to redact.",
        reads=redacted,
        reads_policy=True,
    )
    def _complete(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        policy = warehouse.load_policy().pii
        scanner = PiiScanner(policy)
        leftovers = []
        for batch in iter_parquet_batches(redacted(warehouse), warehouse.batch_rows):
            for row in batch.to_pylist():
                texts = [row["prompt"], row["response"], *conversation_texts(row["messages"])]
                kinds = {
                    f.kind.value
                    for text in texts
                    for f in scan(text, scanner)
                    if not f.is_placeholder and policy.actions[f.kind] is PiiAction.REDACT
                }
                if kinds:
                    leftovers.append({"example_id": row["example_id"], "kinds": sorted(kinds)})
        return dg.AssetCheckResult(
            passed=not leftovers,
            description=in_words(len(leftovers), "rows with PII left after redaction", leftovers),
            metadata={"rows_with_leftovers": len(leftovers), "examples": leftovers[:MAX_EXAMPLES]},
        )

    return [
        schema_check(PII_KEY, layout.ROWS, PiiVerdictRecord),
        schema_check(PII_KEY, layout.REDACTED, RedactedTextRecord),
        _complete,
    ]
