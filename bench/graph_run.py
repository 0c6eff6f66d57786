"""Child process: build the whole graph and a release through Dagster, then report step times.

    python -m bench.graph_run DATA_DIR VERSION OUT_JSON [--select SELECTION]

Runs `born_assets.defs.runner.materialize_release` (or, with `--select`, a `dg.materialize` of that
asset selection) against the instance in `$DAGSTER_HOME`, then reads each step's start and end
from the instance's event log (`get_run_step_stats`) and writes them with the run's outcome.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import dagster as dg

from born_assets.defs.location import build_definitions
from born_assets.defs.runner import JobRuns, failure_messages, instance, materialize_release
from born_assets.layout import DataDir
from born_assets.specs.project import Project
from born_assets.store.memo import code_version


def _materialize_selection(data: DataDir, selection: str) -> dg.ExecuteInProcessResult:
    defs = build_definitions(Project.load(data))
    with instance() as dagster_instance:
        return dg.materialize(
            [*(defs.assets or []), *(defs.asset_checks or [])],  # type: ignore[list-item]
            resources=defs.resources,
            instance=dagster_instance,
            selection=selection,
            raise_on_error=False,
        )


def step_times(dagster_instance: dg.DagsterInstance, run_id: str) -> list[dict[str, Any]]:
    """Start, end and status of every step of a run, from the instance's event log."""
    stats = dagster_instance.get_run_step_stats(run_id)
    return [
        {
            "step": s.step_key,
            "start": s.start_time,
            "end": s.end_time,
            "seconds": (s.end_time or 0.0) - (s.start_time or 0.0),
            "status": s.status.value if s.status else None,
        }
        for s in sorted(stats, key=lambda s: s.start_time or 0.0)
    ]


def dedup_seconds(dagster_instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Exact and near dedup seconds, as the `deduplicated` materialization recorded them."""
    records = dagster_instance.fetch_materializations(dg.AssetKey("deduplicated"), limit=1).records
    if not records or records[0].run_id != run_id:
        return {}
    materialization = records[0].asset_materialization
    metadata = materialization.metadata if materialization is not None else {}
    wanted = ("exact_dedup_seconds", "near_dedup_seconds")
    return {k: float(metadata[k].value) for k in wanted if k in metadata}  # type: ignore[arg-type]


def reused_release_rows(dagster_instance: dg.DagsterInstance, run_ids: list[str]) -> int | None:
    """Rows the run's release copied in shards of an earlier release (None: no release cut)."""
    records = dagster_instance.fetch_materializations(dg.AssetKey("release"), limit=1).records
    if not records or records[0].run_id not in run_ids:
        return None
    materialization = records[0].asset_materialization
    value = materialization.metadata.get("rows_in_reused_shards") if materialization else None
    return int(value.value) if value is not None else None  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("version")
    parser.add_argument("out", type=Path)
    parser.add_argument("--select", default=None)
    args = parser.parse_args(argv)
    code = code_version()  # other people edit born_assets: say which sources were measured
    start = time.time()
    result: JobRuns | dg.ExecuteInProcessResult
    if args.select:
        selected = _materialize_selection(DataDir.at(args.data_dir), args.select)
        result, run_ids = selected, [selected.run_id]
    else:
        runs = materialize_release(DataDir.at(args.data_dir), args.version)
        result, run_ids = runs, runs.run_ids
    end = time.time()
    with dg.DagsterInstance.get() as dagster_instance:  # one instance for every query after it
        report = {
            "code_version": code,
            "success": result.success,
            "failures": failure_messages(result),
            "run_ids": run_ids,
            "run_start": start,
            "run_end": end,
            "steps": [s for run_id in run_ids for s in step_times(dagster_instance, run_id)],
            "dedup": dedup_seconds(dagster_instance, run_ids[0]),
            "release_rows_reused": reused_release_rows(dagster_instance, run_ids),
        }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
