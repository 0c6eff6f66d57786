"""The `executed` stage's cost per row, measured apart: it runs real code, not synthetic text.

    python -m bench.execution [--work .bench]

The synthetic corpus names no task tests (its rows come back `not_executable`, at the cost of a
narrow table), so this copies the repository's sample inputs (the reference lanes with their task
tests), builds `executed` and everything upstream of it in a child process with an empty result
cache, and reports the step's wall seconds, the rows run, seconds per row run (wall, on every
core) and the mean run seconds per family; then it builds `executed` again to show the cache.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import duckdb

from bench.measure import run_measured

REPO = Path(__file__).resolve().parents[1]
INPUTS = ("manifests", "lanes", "tasks", "prompt_templates", "evals", "policy.yaml")


def _sample(work: Path) -> Path:
    data = work / "execution-sample"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    for name in INPUTS:
        source = REPO / "data" / name
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, data / name)
    return data


def _build(data: Path, work: Path, name: str, cache: Path) -> dict[str, Any]:
    out = work / f"{name}.json"
    home = work / f"dagster-{name}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        "DAGSTER_HOME": str(home),
        "BORN_DATA_DIR": str(data),
        "BORN_EXECUTION_CACHE": str(cache),
    }
    command = [sys.executable, "-m", "bench.graph_run", str(data), "v1", str(out)]
    measured = run_measured(
        [*command, "--select", "+key:executed"], env, work / f"{name}.log", cwd=REPO
    )
    report: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {"steps": []}
    step = next((s for s in report["steps"] if s["step"] == "executed"), None)
    seconds = step["end"] - step["start"] if step and step["start"] and step["end"] else None
    return {
        "success": report.get("success", False),
        "wall_s": measured.wall_s,
        "executed_s": seconds,
    }


def measure_execution(work: Path) -> dict[str, Any]:
    """The executed stage on the sample lanes: cold (empty cache), then warm."""
    data = _sample(work)
    cache = work / "execution-cache"
    shutil.rmtree(cache, ignore_errors=True)
    cold = _build(data, work, "execution-cold", cache)
    rows = data / "warehouse" / "executed" / "rows.parquet"
    families = (
        duckdb.execute(
            "SELECT source_benchmark, count(*) FILTER (WHERE duration_s IS NOT NULL) AS ran, "
            "round(avg(duration_s), 3) AS mean_run_s, round(max(duration_s), 2) AS max_run_s, "
            "round(avg(peak_memory_kb) / 1024) AS mean_peak_mib, count(*) AS rows "
            f"FROM read_parquet('{rows.as_posix()}') GROUP BY ALL ORDER BY 1"
        ).fetchall()
        if rows.exists()
        else []
    )
    ran = sum(f[1] for f in families)
    warm = _build(data, work, "execution-warm", cache)
    return {
        "cold": cold,
        "warm": warm,
        "rows_run": ran,
        "seconds_per_row_run": round(cold["executed_s"] / ran, 3)
        if ran and cold["executed_s"]
        else None,
        "families": [
            dict(
                zip(
                    ("family", "ran", "mean_run_s", "max_run_s", "mean_peak_mib", "rows"),
                    f,
                    strict=True,
                )
            )
            for f in families
        ],
    }


def render_execution(result: dict[str, Any]) -> str:
    """The executed stage's lines of the report."""
    lines = [
        f"executed stage on the sample lanes (real code, {result['rows_run']} rows run): "
        f"{result['cold']['executed_s']:.1f} s cold = {result['seconds_per_row_run']} s per row "
        f"run (wall, all cores); warm (cache) {result['warm']['executed_s']:.1f} s",
        "| family | rows | ran | mean run s | max run s | mean peak MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {f['family']} | {f['rows']} | {f['ran']} | {f['mean_run_s']} | {f['max_run_s']} "
        f"| {f['mean_peak_mib']} |"
        for f in result["families"]
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=REPO / ".bench")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    result = measure_execution(args.work.resolve())
    (args.work / "results-execution.json").write_text(json.dumps(result, indent=2) + "\n")
    print(render_execution(result))


if __name__ == "__main__":
    main()
