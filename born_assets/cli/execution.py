"""`born tests` and `born calibrate`: what the executed stage observed, and the harnesses' check."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from born_assets.cli.output import note
from born_assets.execution.calibration import FAMILIES, calibrate, format_report
from born_assets.execution.environment import Environment
from born_assets.execution.isolation import claimed_users
from born_assets.execution.rows import Runner, driver_source
from born_assets.execution.sandbox import Sandbox
from born_assets.layout import ROWS, Asset
from born_assets.specs.policy import Policy
from born_assets.store.result_cache import ResultCache
from born_assets.store.warehouse import Warehouse

_TESTS_SQL = """
SELECT origin_id, execution_status, coalesce(execution_reason, '') AS reason, count(*) AS rows
FROM read_parquet($p) GROUP BY ALL ORDER BY ALL
"""


def _tests(args: argparse.Namespace) -> int:
    path = args.data.stage(Asset.EXECUTED) / ROWS
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: materialize the graph first")
    with Warehouse(args.data).connect() as con:
        rows = con.execute(_TESTS_SQL, {"p": path.as_posix()}).fetchall()
    print(f"{'source':<28} {'status':<15} {'reason':<20} {'rows':>6}")
    for origin, status, reason, count in rows:
        print(f"{origin:<28} {status:<15} {reason:<20} {count:>6}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    policy = Policy.load(args.data.policy).execution
    workers = args.workers or len(os.sched_getaffinity(0))
    found: list[tuple[str, Path]] = []
    for name in args.family or sorted(FAMILIES):
        files = sorted((args.benchmarks / name).glob("*.jsonl"))
        if not files:
            raise FileNotFoundError(f"no {name}/*.jsonl under {args.benchmarks}")
        found.append((name, files[0]))
    with claimed_users(workers) as users:
        sandbox = Sandbox.create(policy.isolation, policy.limits, args.data.root, users)
        environment = Environment.current(sandbox.isolation, policy.limits)
        cache = ResultCache(args.data.execution_cache)
        runner = Runner(sandbox, environment, cache, driver_source())
        reports = []
        for name, path in found:
            reports.append(calibrate(name, path, runner, workers, args.limit))
            note(f"{name}: {path.name} done")
    print(f"isolation: {sandbox.isolation}, {environment.interpreter}, {workers} workers")
    print(format_report(reports))
    return 0


def register(add: Any) -> None:
    """Add `tests` and `calibrate`; `add(name, run, help, example)` returns its parser."""
    add(
        "tests",
        _tests,
        "rows of the executed stage by source, status and reason",
        "born tests",
    )
    calibrate_cmd = add(
        "calibrate",
        _calibrate,
        "run benchmark files' reference solutions (must pass) and planted wrong ones (must fail)",
        "born calibrate ../benchmarks --family mbpp --limit 20",
    )
    calibrate_cmd.add_argument(
        "benchmarks", type=Path, help="folder with <family>/*.jsonl (e.g. real/benchmarks)"
    )
    calibrate_cmd.add_argument("--family", action="append", choices=sorted(FAMILIES))
    calibrate_cmd.add_argument("--limit", type=int, default=None, help="records per family")
    calibrate_cmd.add_argument("--workers", type=int, default=0, help="0: one per CPU")
