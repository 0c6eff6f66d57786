"""The `release` and `transparency_table` assets, one dynamic partition per release version."""

import csv
from collections.abc import Sequence

import dagster as dg
from pydantic import Field

from born_assets.defs.assets.contamination import CONTAMINATION_KEY
from born_assets.defs.assets.curation import DEDUPLICATED_KEY, GATED_KEY
from born_assets.defs.assets.erasure import ERASURE_KEY
from born_assets.defs.assets.executed import EXECUTED_KEY
from born_assets.defs.assets.pii import PII_KEY
from born_assets.defs.assets.review import HUMAN_REVIEWS_KEY
from born_assets.defs.assets.sanitized import SANITIZED_KEY
from born_assets.defs.checks import RESULT_REMEMBERED
from born_assets.defs.metadata import column_schema, passthrough_lineage, plot_metadata
from born_assets.defs.release_gate import ReleaseGate
from born_assets.defs.resources import WarehouseResource
from born_assets.layout import ReleaseDir
from born_assets.release.build import ReviewInputs, WarehouseInputs
from born_assets.release.catalog import next_version, released_on
from born_assets.release.changes import changes_since_previous
from born_assets.release.preflight import release_preflight
from born_assets.release.publish import ReleaseRefused, ReleaseRequest, cut_release
from born_assets.release.transparency import CSV_COLUMNS, SourceMeta
from born_assets.schemas.curation import DeduplicatedRecord, SanitizedRecord
from born_assets.schemas.execution import ExecutedRecord
from born_assets.schemas.release import ReleaseRecord
from born_assets.schemas.vocabulary import IntendedUse

RELEASE_VERSIONS = dg.DynamicPartitionsDefinition(name="release_version")
RELEASE_KEY = dg.AssetKey("release")
TRANSPARENCY_KEY = dg.AssetKey("transparency_table")
GROUP = "release"
TRANSPARENCY_SCHEMA = dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in CSV_COLUMNS])


class ReleaseConfig(dg.Config):
    """The launch config of a release: the use it is cut for (the use rules follow from it)."""

    use: IntendedUse = Field(
        default=IntendedUse.TRAIN,
        description="What the release is for: train, eval, red_team or demo. Rows whose "
        "intended_use, prohibited_use, eval_exclusion, review status or license do not allow "
        "it are withheld, each with its reason.",
    )


# Where the released columns come from: the first of these tables that has a column of that name.
_RELEASE_UPSTREAM = [
    (DEDUPLICATED_KEY, DeduplicatedRecord),
    (EXECUTED_KEY, ExecutedRecord),
    (SANITIZED_KEY, SanitizedRecord),
]

CHECK_NAMES = (
    "release_schema",
    "unique_example_id",
    "use_compatible",
    "review_requirements_met",
    "fates_reconcile",
)


def release_asset(
    sources: Sequence[dg.AssetKey], metas: Sequence[SourceMeta], spec_sha256: dict[str, str]
) -> dg.AssetsDefinition:
    """Cut the release named by the partition key from the current warehouse."""

    @dg.asset(
        key=RELEASE_KEY,
        deps=[
            DEDUPLICATED_KEY,
            GATED_KEY,
            SANITIZED_KEY,
            CONTAMINATION_KEY,
            PII_KEY,
            ERASURE_KEY,
            HUMAN_REVIEWS_KEY,
            EXECUTED_KEY,
            *sources,
        ],
        partitions_def=RELEASE_VERSIONS,
        group_name=GROUP,
        kinds={"duckdb", "parquet"},
        owners=["team:release"],
        description=(
            "One row per released training example (a versioned folder under releases/): "
            "Parquet shards with the lineage record, fates, transparency table, dataset card, "
            "Croissant metadata and release.json. Immutable once published."
        ),
        check_specs=[
            dg.AssetCheckSpec(name, asset=RELEASE_KEY, blocking=True) for name in CHECK_NAMES
        ],
    )
    def _release(
        context: dg.AssetExecutionContext,
        config: ReleaseConfig,
        warehouse: WarehouseResource,
        release_gate: ReleaseGate,
    ) -> dg.MaterializeResult:
        version = context.partition_key
        problems = release_preflight(warehouse.data)
        if problems:
            raise dg.Failure(description="release refused before building:\n" + "\n".join(problems))
        policy = warehouse.load_policy()
        request = ReleaseRequest(
            version=version,
            use=config.use,
            data=warehouse.data,
            warehouse=WarehouseInputs(
                source_dirs=tuple(warehouse.asset_dir(k) for k in sources),
                sanitized=warehouse.asset_dir(SANITIZED_KEY),
                gated=warehouse.asset_dir(GATED_KEY),
                deduplicated=warehouse.asset_dir(DEDUPLICATED_KEY),
                contamination=warehouse.asset_dir(CONTAMINATION_KEY),
                pii=warehouse.asset_dir(PII_KEY),
                executed=warehouse.asset_dir(EXECUTED_KEY),
                review=ReviewInputs(
                    table=warehouse.asset_dir(HUMAN_REVIEWS_KEY),
                    required_for=tuple(u.value for u in policy.review.required_for),
                ),
                contamination_applies=config.use in policy.contamination.applies_to,
            ),
            sources=tuple(metas),
            spec_sha256=spec_sha256,
            policy_sha256=policy.content_hash,
            licenses=policy.licenses,
            dataset_id=policy.release.dataset_id,
            released_on=released_on(warehouse.data.release(version)),
        )
        with warehouse.exclusive(), warehouse.connect() as con:
            release_gate.refuse_if_failed(context)  # under the lock: no run rewrites meanwhile
            try:
                outcome = cut_release(con, request)
            except ReleaseRefused as refused:
                raise dg.Failure(description=str(refused)) from refused
            changes = changes_since_previous(con, warehouse.data, version)
        suggested = next_version(warehouse.data)
        reused = (
            f" ({outcome.rows_reused} of them in shards copied from an earlier release)"
            if outcome.rows_reused
            else ""
        )
        context.log.info(
            f"release {version}: {outcome.status}, {outcome.rows} rows{reused} at {outcome.path}; "
            f"{changes.sentence()}; the next version would be {suggested}"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": outcome.rows,
                "dagster/column_schema": column_schema(ReleaseRecord),
                "dagster/column_lineage": passthrough_lineage(ReleaseRecord, _RELEASE_UPSTREAM),
                "status": outcome.status,
                "changes_since_previous": changes.sentence(),
                "previous_version": changes.previous or "",
                "rows_changed_since_previous": dict(sorted(changes.totals.items())),
                "next_version": suggested,
                "release_path": dg.MetadataValue.path(str(outcome.path)),
                "transparency_table": dg.MetadataValue.path(
                    str(outcome.path / ReleaseDir.TRANSPARENCY_MD)
                ),
                "rows_by_fate": dict(sorted(outcome.fates.items())),
                "files": len(outcome.files),
                "rows_in_reused_shards": outcome.rows_reused,
                "use": config.use.value,
                "dataset_id": policy.release.dataset_id,
                "license": outcome.license,
                "configs": outcome.configs,
                **plot_metadata(outcome.path, outcome.plots),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=c.name,
                    passed=c.passed,
                    description=c.description,
                    metadata={
                        "failures": c.failures,
                        "examples": dg.MetadataValue.json(c.examples),
                        RESULT_REMEMBERED: outcome.checks_remembered,
                    },
                )
                for c in outcome.checks
            ],
        )

    return _release


def transparency_table_asset() -> dg.AssetsDefinition:
    """The release's transparency table, shown as table metadata and Markdown."""

    @dg.asset(
        key=TRANSPARENCY_KEY,
        deps=[RELEASE_KEY],
        partitions_def=RELEASE_VERSIONS,
        group_name=GROUP,
        kinds={"csv"},
        owners=["team:release"],
        description=(
            "One row per lane and import of a release (plus a footer per benchmark family and "
            "a total): rows read, rows per fate, curation score, license, spec hash."
        ),
    )
    def _transparency(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        folder = warehouse.data.release(context.partition_key).path
        with (folder / ReleaseDir.TRANSPARENCY_CSV).open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(rows),
                "table": dg.MetadataValue.table(
                    [dg.TableRecord(r) for r in rows], schema=TRANSPARENCY_SCHEMA
                ),
                "markdown": dg.MetadataValue.md(
                    (folder / ReleaseDir.TRANSPARENCY_MD).read_text(encoding="utf-8")
                ),
                "csv": dg.MetadataValue.path(str(folder / ReleaseDir.TRANSPARENCY_CSV)),
            }
        )

    return _transparency
