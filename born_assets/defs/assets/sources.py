"""The shared shape of every ingesting asset (a lane or an import) and its checks."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg

from born_assets import layout
from born_assets.defs.checks import Check, lines_reconcile_check, schema_check
from born_assets.defs.ingest_metadata import ingest_metadata
from born_assets.defs.resources import WarehouseResource
from born_assets.ingest.files import RowParser, TakenOver, ingest_files
from born_assets.ingest.record import Origin
from born_assets.ingest.reuse import IngestInputs, IngestState
from born_assets.schemas.ingest import LineageRecord, QuarantineRecord

KINDS = {"python", "parquet"}


@dataclass(frozen=True)
class SourceAssetSpec:
    """What differs between one lane or import asset and another."""

    key: dg.AssetKey
    group: str
    origin: Origin
    owner: str
    description: str
    folder: str
    glob: str
    parse_row: RowParser
    metadata: dict[str, Any]
    tags: dict[str, str]
    prepare: Callable[[dg.AssetExecutionContext, WarehouseResource], dict[str, Any]] | None = None
    """Runs before the files are read (a lane's generation); returns extra metadata."""


def source_asset(spec: SourceAssetSpec) -> dg.AssetsDefinition:
    """An asset that streams a source's files into accepted rows, quarantine and a file ledger.

    The spec file's hash is the code version, so editing a manifest marks the asset stale.
    """

    @dg.asset(
        key=spec.key,
        group_name=spec.group,
        kinds=KINDS,
        owners=[spec.owner],
        code_version=spec.origin.spec_hash[:16],
        description=spec.description,
        metadata=spec.metadata,
        tags=spec.tags,
    )
    def _source(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        prepared = spec.prepare(context, warehouse) if spec.prepare else {}
        files = warehouse.data.source_files(spec.folder, spec.glob)
        if not files:
            context.log.warning(
                f"{spec.key.to_user_string()}: no files match {spec.folder}/{spec.glob}"
            )
        not_read = warehouse.data.not_files(spec.folder, spec.glob)
        skipped = [path.relative_to(warehouse.data.root).as_posix() for path in not_read]
        for name in skipped:
            context.log.warning(
                f"{name}: not read, not a regular file (a link to nothing, a FIFO, a folder...)"
            )
        inputs = IngestInputs.of(warehouse.data, files, spec.origin.spec_hash)
        folder = warehouse.asset_dir(spec.key)
        previous = IngestState.read(folder)
        reused = previous is not None and previous.inputs == inputs
        if previous is not None and reused:
            summary, taken = previous.summary, len(files)
            context.log.info(
                "files, spec, erasure state and code unchanged: reusing the ingest "
                f"({summary.quarantined_total} lines quarantined by it, examples in its metadata)"
            )
        else:
            with warehouse.publish(spec.key, source=True) as staging:
                before = IngestState.read(folder)  # again, now that the source is locked
                taken = 0 if before is None else inputs.files_shared(before.inputs)
                if taken:
                    context.log.info(
                        f"the first {taken} of {len(files)} files are those the last ingest read, "
                        "under the same spec, erasure state and code: their rows are taken over"
                    )
                summary = ingest_files(
                    files,
                    origin=spec.origin,
                    data=warehouse.data,
                    parse_row=spec.parse_row,
                    out_dir=staging,
                    batch_rows=warehouse.batch_rows,
                    erasure=warehouse.load_erasure(),
                    taken_over=TakenOver(folder, taken),
                )
                IngestState(inputs, summary).write(staging)
            for message in summary.example_messages:
                context.log.warning(f"quarantined: {message}")
        metadata = ingest_metadata(summary, folder)
        return dg.MaterializeResult(
            metadata={
                **metadata,
                "reused_previous_ingest": reused,
                "files_taken_over": taken,
                "entries_not_read": skipped,
                **prepared,
            }
        )

    return _source


def source_checks(key: dg.AssetKey) -> list[Check]:
    """The blocking checks every lane and import carries."""
    return [
        schema_check(key, layout.ROWS, LineageRecord),
        schema_check(key, layout.QUARANTINE, QuarantineRecord),
        lines_reconcile_check(key),
    ]
