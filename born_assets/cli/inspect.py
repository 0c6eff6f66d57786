"""`born manifests`, `contamination` and `views`: checking specs and looking at the warehouse."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from born_assets.governance.contamination_stage import (
    format_nearest,
    format_report,
    nearest_rows,
    report_rows,
)
from born_assets.layout import Asset
from born_assets.specs.evals import load_eval_sets
from born_assets.specs.project import Project
from born_assets.store.views import write_views


def _manifests(args: argparse.Namespace) -> int:
    project = Project.load(args.data)
    eval_sets, eval_errors = load_eval_sets(args.data)
    for item in project.lanes:
        m = item.manifest
        print(
            f"ok     {m.lane_id}: {m.benchmark_family}, teacher {m.teacher.model} "
            f"({m.teacher.version}), {len(item.task_ids)} tasks, {item.path.name}"
        )
    for loaded in project.imports:
        spec = loaded.spec
        print(f"ok     {spec.import_id}: import, {spec.format}, {loaded.path.name}")
    for eval_set in eval_sets:
        print(f"ok     {eval_set.eval_id}: eval set, {len(eval_set.items)} items")
    errors = [*project.errors, *eval_errors]
    for error in errors:
        print(f"ERROR  {error}", file=sys.stderr)
    return 1 if errors else 0


def _contamination(args: argparse.Namespace) -> int:
    folder = args.data.stage(Asset.CONTAMINATION)
    if not folder.exists():
        raise FileNotFoundError(
            f"{folder} does not exist: materialize the graph first (make release)"
        )
    print(format_report(report_rows(folder)))
    nearest = nearest_rows(folder)
    if nearest:
        print()
        print(format_nearest(nearest))
    return 0


def _views(args: argparse.Namespace) -> int:
    path, names = write_views(args.data)
    print(f"{len(names)} views in {path} (open it with duckdb; e.g. SELECT * FROM row_fates):")
    for name in names:
        print(f"  {name}")
    return 0


def register(add: Any) -> None:
    """Add the inspection commands; `add(name, run, help, example)` returns its parser."""
    add(
        "manifests",
        _manifests,
        "validate every manifest, import spec and eval set; exit 1 on any error",
        "born manifests",
    )
    add(
        "contamination",
        _contamination,
        "print the contamination report per eval set and source",
        "born contamination",
    )
    add(
        "views",
        _views,
        "write warehouse.duckdb: one SQL view per warehouse and release table",
        "born views && duckdb data/warehouse.duckdb -c 'SELECT count(*) FROM row_fates'",
    )
