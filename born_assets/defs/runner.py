"""Running the code location's own jobs from the command line, recorded in the Dagster instance.

`born release` launches `build_warehouse` and then `cut_release` for the version's partition,
`born erase` launches `build_warehouse`: the same jobs, tags and runs timeline as a launch from
the UI. A release version is checked before its partition exists, and a partition whose release
was refused is removed again, so refused versions leave nothing behind.
"""

from __future__ import annotations

import gc
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from born_assets.defs.assets.release import RELEASE_KEY, RELEASE_VERSIONS
from born_assets.defs.automation import RELEASE_JOB, WAREHOUSE_JOB, watched_sources
from born_assets.defs.location import build_definitions
from born_assets.layout import DataDir, OutsideDataDir, ReleaseDir
from born_assets.release.changes import previous_release
from born_assets.release.publish import is_version_name
from born_assets.schemas.vocabulary import IntendedUse
from born_assets.specs.project import Project
from born_assets.store.progress import LOGGER as PROGRESS_LOGGER
from born_assets.store.unchanged import hashed_ahead

PARTITIONS = RELEASE_VERSIONS.name or "release_version"
VERSION_TAG = "born/release_version"
USE_TAG = "born/release_use"
WHO_TAG = "born/launched_by"
FROM_TAG = "born/launched_from"


# As dagster.yaml says: the stages' progress lines go to the run's log.
PYTHON_LOGS = {"managed_python_loggers": [PROGRESS_LOGGER.name], "python_log_level": "INFO"}


@contextmanager
def instance() -> Iterator[dg.DagsterInstance]:
    """The instance in `$DAGSTER_HOME` (so `make ui` shows the run), else an ephemeral one."""
    if os.environ.get("DAGSTER_HOME"):
        with dg.DagsterInstance.get() as found:
            yield found
    else:
        with dg.DagsterInstance.ephemeral(settings={"python_logs": PYTHON_LOGS}) as ephemeral:
            yield ephemeral


@dataclass(frozen=True)
class JobRuns:
    """The runs one command launched, in order; a run starts only once the former succeeded."""

    results: tuple[dg.ExecuteInProcessResult, ...]

    @property
    def success(self) -> bool:
        """Every run succeeded."""
        return all(r.success for r in self.results)

    @property
    def run_ids(self) -> list[str]:
        """The runs' ids, as the runs timeline lists them."""
        return [r.run_id for r in self.results]

    def get_asset_check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        """Every asset check evaluated in any of the runs."""
        return [e for r in self.results for e in r.get_asset_check_evaluations()]

    def get_asset_materialization_events(self) -> list[dg.DagsterEvent]:
        """Every asset materialization event of the runs."""
        return [e for r in self.results for e in r.get_asset_materialization_events()]


def check_version_name(version: str) -> None:
    """Raise ValueError unless `version` may name a release (a folder and a partition key)."""
    if not is_version_name(version):
        raise ValueError(
            f"release version {version!r} is not a valid name: use letters, digits, '.', '_' "
            f"and '-', starting with a letter or digit, at most 64 characters (e.g. v3)"
        )


def launcher() -> str:
    """Who launched the run: `$BORN_USER`, else the login name."""
    return os.environ.get("BORN_USER") or getpass.getuser()


def _run_job(
    defs: dg.Definitions,
    name: str,
    dagster_instance: dg.DagsterInstance,
    tags: dict[str, str],
    log_level: str,
    partition_key: str | None = None,
    ops: dict[str, object] | None = None,
) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def(name)
    return job.execute_in_process(
        instance=dagster_instance,
        raise_on_error=False,
        tags={FROM_TAG: "cli", WHO_TAG: launcher(), **tags},
        partition_key=partition_key,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}, "ops": ops or {}},
    )


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """The objects alive before the runs (modules, Dagster, the definitions) kept out of collection.

    Python's cyclic collector walks every object of its oldest generation each time it collects
    it, and a build's own loops (a row at a time, a Parquet footer decoded into an object per
    field) allocate enough to make it do so often. Frozen (`gc.freeze`), the ~260,000 objects the
    imports and the definitions made are not walked again: the 96,858 rows of the 100k bench's
    `executed` table, made Python dicts a batch at a time, took 0.43 s beside them and 0.30 s with
    them frozen. They are unfrozen after the runs, so a process that runs builds one after
    another (the tests) frees them as usual.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def materialize_release(
    data: DataDir, version: str, use: IntendedUse = IntendedUse.TRAIN, log_level: str = "INFO"
) -> JobRuns:
    """Run `build_warehouse`, then `cut_release` for partition `version`, cut for `use`.

    `log_level` is what the runs print on stderr (their log in the instance keeps everything).
    """
    check_version_name(version)
    project = Project.load(data)
    defs = build_definitions(project)
    tags = {VERSION_TAG: version, USE_TAG: use.value}
    with (
        hashed_ahead(_hashed_by_steps(data, project, defs) + _hashed_by_cut(data, version)),
        instance() as dagster_instance,
        _frozen_heap(),
    ):
        warehouse = _run_job(defs, WAREHOUSE_JOB, dagster_instance, tags, log_level)
        if not warehouse.success:
            return JobRuns((warehouse,))
        added = not dagster_instance.has_dynamic_partition(PARTITIONS, version)
        if added:
            dagster_instance.add_dynamic_partitions(PARTITIONS, [version])
        release = _run_job(
            defs,
            RELEASE_JOB,
            dagster_instance,
            tags,
            log_level,
            partition_key=version,
            ops={RELEASE_KEY.to_python_identifier(): {"config": {"use": use.name}}},
        )
        if added and not data.release(version).is_published():
            dagster_instance.delete_dynamic_partition(PARTITIONS, version)
        return JobRuns((warehouse, release))


def materialize_graph(data: DataDir, log_level: str = "INFO") -> JobRuns:
    """Run `build_warehouse`: every lane, import and stage but the release partitions."""
    project = Project.load(data)
    defs = build_definitions(project)
    with (
        hashed_ahead(_hashed_by_steps(data, project, defs)),
        instance() as dagster_instance,
        _frozen_heap(),
    ):
        return JobRuns((_run_job(defs, WAREHOUSE_JOB, dagster_instance, {}, log_level),))


def _hashed_by_steps(data: DataDir, project: Project, defs: dg.Definitions) -> list[Path]:
    """The files the steps hash before they decide, in about the order they run.

    Every source's input files, then every published table of every asset: a step of a run
    that changes nothing reads them all only to find them the same.
    """
    files: list[Path] = []
    for source in watched_sources(project):
        try:
            files += data.source_files(source.folder, source.glob)
        except OutsideDataDir:
            continue  # the source's own step fails and says why
    for asset in defs.assets or []:
        if isinstance(asset, dg.AssetsDefinition):
            for key in asset.keys:
                tables = data.asset(key.path).glob("*.parquet")
                files += sorted(p for p in tables if p.is_file())  # never a FIFO: it would wait
    return files


def _hashed_by_cut(data: DataDir, version: str) -> list[Path]:
    """The files a cut of `version` hashes, after the steps' own.

    Those of `version` when it is published (a cut that changes nothing verifies them), and the
    shards of the release before it (the cut compares the two).
    """
    release = data.release(version)
    files = (
        sorted(p for p in release.path.rglob("*") if p.is_file()) if release.is_published() else []
    )
    try:
        previous = previous_release(data, version)
    except (OSError, ValueError, KeyError):  # a damaged release.json: the cut says which
        return files
    return files + (ReleaseDir(previous).shards() if previous is not None else [])


def junk_partitions(data: DataDir, dagster_instance: dg.DagsterInstance) -> list[str]:
    """Release partitions of the instance with no published release (left by refused runs)."""
    keys = dagster_instance.get_dynamic_partitions(PARTITIONS)
    return [key for key in keys if not data.release(key).is_published()]


def remove_partitions(dagster_instance: dg.DagsterInstance, keys: list[str]) -> None:
    """Delete these release partitions from the instance (their runs stay in the history)."""
    for key in keys:
        dagster_instance.delete_dynamic_partition(PARTITIONS, key)


def _failure_text(event: dg.DagsterEvent) -> str:
    """The user-facing reason of a step failure (a `dg.Failure` description, else the error)."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        return data.error.message.strip()
    return event.message or "step failed"


def failure_messages(runs: JobRuns | dg.ExecuteInProcessResult) -> list[str]:
    """What failed in the runs: step failures and failed checks (with their reason), one each."""
    found = runs if isinstance(runs, JobRuns) else JobRuns((runs,))
    messages = [
        f"{event.step_key}: {_failure_text(event)}"
        for result in found.results
        for event in result.all_events
        if event.event_type_value == "STEP_FAILURE"
    ]
    messages += [
        f"check {e.asset_key.to_user_string()}:{e.check_name} failed"
        + (f": {e.description}" if e.description else "")
        for e in found.get_asset_check_evaluations()
        if not e.passed
    ]
    return messages
