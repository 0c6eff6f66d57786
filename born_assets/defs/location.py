"""Build the project's Dagster objects from the YAML files found under the data dir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from born_assets.defs.assets.broken import broken_spec_asset
from born_assets.defs.assets.curation import (
    DEDUPLICATED_KEY,
    GATED_KEY,
    curation_checks,
    deduplicated_asset,
    gated_asset,
)
from born_assets.defs.assets.fates import row_fates_asset, row_fates_checks
from born_assets.defs.assets.governance import (
    CONTAMINATION_KEY,
    contamination_asset,
    contamination_checks,
    contamination_report_asset,
    erasure_asset,
    erasure_checks,
    pii_asset,
    pii_checks,
)
from born_assets.defs.assets.imports import GROUP as IMPORTS
from born_assets.defs.assets.imports import import_asset, import_key
from born_assets.defs.assets.lanes import GROUP as LANES
from born_assets.defs.assets.lanes import lane_asset, lane_key
from born_assets.defs.assets.release import release_asset, transparency_table_asset
from born_assets.defs.assets.review import human_reviews, human_reviews_checks
from born_assets.defs.assets.sanitized import (
    EXITS_FILE,
    SANITIZED_KEY,
    sanitized_asset,
    sanitized_checks,
)
from born_assets.defs.assets.sources import source_checks
from born_assets.defs.automation import build_automation
from born_assets.defs.executor import executor_from_env, workers_from_env
from born_assets.defs.release_gate import release_gate
from born_assets.defs.resources import Warehouse
from born_assets.release.transparency import SourceMeta
from born_assets.specs.common import SpecError
from born_assets.specs.imports import LoadedImport, load_imports
from born_assets.specs.manifests import LoadedManifest, load_manifests

DATA_DIR_ENV = "BORN_DATA_DIR"
DEFAULT_DATA_DIR = "data"


def data_dir_from_env() -> Path:
    """The data dir: `$BORN_DATA_DIR`, else `./data`; read once, when definitions load."""
    return Path(os.environ.get(DATA_DIR_ENV, DEFAULT_DATA_DIR)).resolve()


@dataclass(frozen=True)
class Project:
    """Everything the YAML files under a data dir define."""

    data_dir: Path
    lanes: list[LoadedManifest]
    imports: list[LoadedImport]
    lane_errors: list[SpecError]
    import_errors: list[SpecError]

    @classmethod
    def load(cls, data_dir: Path) -> Project:
        """Read the manifests and import specs; broken ones are kept as errors, not raised."""
        lanes, lane_errors = load_manifests(data_dir / "manifests", data_dir)
        imports, import_errors = load_imports(data_dir / "imports")
        return cls(data_dir, lanes, imports, lane_errors, import_errors)

    def source_metas(self) -> list[SourceMeta]:
        """What the specs say about each lane and import, for the transparency table."""
        metas = [
            SourceMeta(
                origin_kind="lane",
                origin_id=m.manifest.lane_id,
                family=m.manifest.benchmark_family,
                teacher=f"{m.manifest.teacher.model} ({m.manifest.teacher.version})",
                license=m.manifest.license,
                spec_sha256=m.content_hash,
            )
            for m in self.lanes
        ]
        metas += [
            SourceMeta(
                origin_kind="import",
                origin_id=i.spec.import_id,
                family=i.spec.dataset_family,
                teacher=i.spec.generator.model if i.spec.generator else "named per row",
                license=i.spec.license,
                spec_sha256=i.content_hash,
                source_url=str(i.spec.source_url),
            )
            for i in self.imports
        ]
        return metas

    def spec_hashes(self) -> dict[str, str]:
        """SHA-256 of every spec, task list and template a release depends on, by path."""
        hashes: dict[str, str] = {}
        for m in self.lanes:
            name = m.path.relative_to(self.data_dir).as_posix()
            hashes[name] = m.content_hash
            hashes[f"{name}#tasks"] = m.tasks_hash
            hashes[f"{name}#prompt_template"] = m.template_hash
        for i in self.imports:
            hashes[i.path.relative_to(self.data_dir).as_posix()] = i.content_hash
        return hashes

    def source_keys(self) -> list[dg.AssetKey]:
        """Keys of every loaded lane and import."""
        keys = [lane_key(loaded.manifest.lane_id) for loaded in self.lanes]
        return keys + [import_key(loaded.spec.import_id) for loaded in self.imports]


def build_definitions(project: Project) -> dg.Definitions:
    """The code location: lane assets, the fate ledger, their checks, and the warehouse.

    Runs execute in one process unless `$BORN_EXECUTOR` says otherwise (`deployment`); the
    CPU-bound stages fan out to `$BORN_WORKERS` processes of their own.
    """
    sources = project.source_keys()
    assets = [lane_asset(loaded) for loaded in project.lanes]
    assets += [import_asset(loaded) for loaded in project.imports]
    assets += [broken_spec_asset(LANES, error) for error in project.lane_errors]
    assets += [broken_spec_asset(IMPORTS, error) for error in project.import_errors]
    assets.append(sanitized_asset(sources))
    assets += [gated_asset(), deduplicated_asset(sources)]
    assets += [contamination_asset(sources), contamination_report_asset(), pii_asset()]
    stages = [
        (key, EXITS_FILE) for key in (SANITIZED_KEY, GATED_KEY, DEDUPLICATED_KEY, CONTAMINATION_KEY)
    ]
    assets.append(row_fates_asset(sources, stages))
    assets.append(erasure_asset(sources))
    assets.append(human_reviews)
    assets.append(release_asset(sources, project.source_metas(), project.spec_hashes()))
    assets.append(transparency_table_asset())
    checks = [check for key in sources for check in source_checks(key)]
    checks += sanitized_checks(sources)
    checks += curation_checks()
    checks += erasure_checks(sources)
    checks += human_reviews_checks()
    checks += contamination_checks()
    checks += pii_checks()
    checks += row_fates_checks(sources)
    automation = build_automation(project, assets)
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=automation.jobs,
        schedules=automation.schedules,
        sensors=automation.sensors,
        resources={
            "warehouse": Warehouse(data_dir=str(project.data_dir), workers=workers_from_env()),
            "release_gate": release_gate(checks),
        },
        executor=executor_from_env(),
    )
