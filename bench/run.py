"""`make bench`: generate a corpus, build it through Dagster, run the references, report.

    BENCH_ROWS=100000 python -m bench.run [--rows N] [--work .bench] [--no-incremental]

1. Generates (or reuses, when its spec and files match) a seeded corpus in `.bench/corpus-N/`.
2. Reads every input file once, so each measurement starts from the page cache.
3. Full build: `materialize_release(data_dir, "v1")` in a child process (`bench.graph_run`) with
   a fresh `DAGSTER_HOME`: wall, CPU and peak RSS of that process (`wait4`), each step's wall from
   the instance's event log and each step's peak RSS from sampling the child's VmRSS.
4. The two references (`bench.references`) on the same files, each in its own child process.
5. Incremental: one new 10k-row file in one lane, then `materialize_release(data_dir, "v2")`.
   Then the `executed` stage on the sample lanes (`bench.execution`: real code, reported apart).
6. Writes `.bench/results-N.json`, prints the table, the ratios, and the target verdicts
   (growth against the next smaller `results-*.json`, e.g. 100k against 1M).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.execution import measure_execution, render_execution
from bench.generate import PLAN_FILE, add_lane_file, generate
from bench.layout import LANES, CorpusSpec
from bench.measure import Measured, drop_into_page_cache, run_measured
from bench.references import REFERENCES, input_files
from bench.report import (
    growth,
    per_asset,
    ratios,
    results_path,
    similarity_summary,
    table,
    verdicts,
)

REPO = Path(__file__).resolve().parents[1]
ROWS_ENV = "BENCH_ROWS"
DEFAULT_ROWS = 100_000
INCREMENT_ROWS = 10_000
INCREMENT_LANE = LANES[0].lane_id
OUTPUTS = ("warehouse", "releases", "warehouse.duckdb", "warehouse.duckdb.wal")


def _matches(plan_path: Path, spec: CorpusSpec) -> bool:
    if not plan_path.exists():
        return False
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    data_dir = plan_path.parent
    return plan["spec"] == asdict(spec) and all(
        (data_dir / f["path"]).is_file() and (data_dir / f["path"]).stat().st_size == f["bytes"]
        for f in plan["files"]
    )


def prepare_corpus(spec: CorpusSpec, data_dir: Path) -> tuple[dict[str, Any], float | None]:
    """The corpus plan, and the generation seconds (None when an identical corpus was reused)."""
    seconds = None
    if not _matches(data_dir / PLAN_FILE, spec):
        shutil.rmtree(data_dir, ignore_errors=True)
        start = time.perf_counter()
        generate(spec, data_dir, workers=os.cpu_count() or 1)
        seconds = time.perf_counter() - start
    for name in OUTPUTS:
        path = data_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        path.unlink(missing_ok=True)
    for added in data_dir.glob("lanes/*/*-added.jsonl"):
        added.unlink()
    plan: dict[str, Any] = json.loads((data_dir / PLAN_FILE).read_text(encoding="utf-8"))
    return plan, seconds


def _child_env(home: Path, data_dir: Path) -> dict[str, str]:
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    return {**os.environ, "DAGSTER_HOME": str(home), "BORN_DATA_DIR": str(data_dir)}


def measure_graph(data_dir: Path, version: str, work: Path, name: str) -> dict[str, Any]:
    """One `materialize_release` run in a child process, with its step times and RSS."""
    out = work / f"{name}-steps.json"
    out.unlink(missing_ok=True)
    samplers: list[Any] = []
    command = [sys.executable, "-m", "bench.graph_run", str(data_dir), version, str(out)]
    env = _child_env(work / f"dagster-{name}", data_dir)
    measured = run_measured(command, env, work / f"{name}.log", samplers, cwd=REPO)
    report: dict[str, Any] = {"success": False, "failures": ["no report"], "steps": []}
    if out.exists():
        report = json.loads(out.read_text(encoding="utf-8"))
    for step in report["steps"]:
        if step["start"] and step["end"]:
            step["peak_rss_bytes"] = samplers[0].peak_between(step["start"], step["end"])
    return {"process": asdict(measured), **report}


def measure_reference(which: str, data_dir: Path, work: Path) -> dict[str, Any]:
    """One reference pipeline in a child process."""
    log = work / f"reference-{which}.log"
    out_dir = work / "reference-out"
    command = [sys.executable, "-m", "bench.references", which, str(data_dir), str(out_dir)]
    measured: Measured = run_measured(command, None, log, cwd=REPO)
    lines = log.read_text(encoding="utf-8").strip().splitlines()
    shutil.rmtree(out_dir, ignore_errors=True)
    counts = json.loads(lines[-1]) if measured.returncode == 0 and lines else {"error": lines[-5:]}
    return {"process": asdict(measured), "output": counts}


def measure_similarity(data_dir: Path, work: Path) -> dict[str, Any]:
    """`born similar` query latency on release v1's stored index, in a child process."""
    log = work / "similar-queries.log"
    command = [sys.executable, "-m", "bench.similar_queries", str(data_dir), "v1"]
    measured = run_measured(command, None, log, cwd=REPO)
    lines = log.read_text(encoding="utf-8").strip().splitlines()
    output = json.loads(lines[-1]) if measured.returncode == 0 and lines else {"error": lines[-5:]}
    return {"process": asdict(measured), "output": output}


def _smaller_results(work: Path, rows: int) -> dict[str, Any] | None:
    sizes = []
    for path in work.glob("results-*.json"):
        size = int(path.stem.split("-")[1])
        if size < rows:
            sizes.append(size)
    if not sizes:
        return None
    loaded: dict[str, Any] = json.loads(results_path(work, max(sizes)).read_text())
    return loaded


def run(rows: int, work: Path, incremental: bool) -> dict[str, Any]:
    """Every measurement of one corpus size; returns (and writes) the results."""
    spec = CorpusSpec(rows=rows)
    data_dir = (work / f"corpus-{rows}").resolve()
    plan, generate_s = prepare_corpus(spec, data_dir)
    drop_into_page_cache(input_files(data_dir))
    full = measure_graph(data_dir, "v1", work, f"full-{rows}")
    full["assets"] = per_asset(full["steps"], plan)
    results: dict[str, Any] = {
        "rows_requested": rows,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "corpus": {k: plan[k] for k in ("spec", "lines", "bytes", "fates")},
        "generate_seconds": generate_s,
        "full": full,
        "references": {w: measure_reference(w, data_dir, work) for w in REFERENCES},
    }
    if full["success"]:
        results["similarity"] = measure_similarity(data_dir, work)
    if incremental and full["success"]:
        added = add_lane_file(spec, data_dir, INCREMENT_LANE, INCREMENT_ROWS)
        drop_into_page_cache([added])
        inc = measure_graph(data_dir, "v2", work, f"incremental-{rows}")
        inc["added_file"] = added.relative_to(data_dir).as_posix()
        inc["added_rows"] = INCREMENT_ROWS
        inc["assets"] = per_asset(inc["steps"], plan)
        results["incremental"] = inc
        added.unlink()
    results["execution"] = measure_execution(work.resolve())  # real code: reported apart
    results["ratios"] = ratios(results)
    smaller = _smaller_results(work, rows)
    if smaller is not None:
        results["growth_from"] = {"rows": smaller["corpus"]["lines"], **growth(smaller, results)}
    results["verdicts"] = verdicts(results, smaller)
    results_path(work, rows).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def render(results: dict[str, Any]) -> str:
    """What `make bench` prints."""
    corpus = results["corpus"]
    parts = [
        f"corpus: {corpus['lines']} lines, {corpus['bytes'] / 1e9:.2f} GB of JSONL; "
        f"expected fates {corpus['fates']}",
        table(results),
    ]
    if not results["full"]["success"]:
        parts.append(f"FULL BUILD FAILED: {results['full']['failures']}")
    if "incremental" in results:
        inc = results["incremental"]
        reread = [
            f"{a['asset']} {a['seconds']:.1f}s"
            for a in inc["assets"]
            if a["asset"].startswith(("lanes__", "imports__"))
        ]
        parts.append(
            f"incremental (+{inc['added_rows']} rows in {inc['added_file']}): "
            f"{inc['process']['wall_s']:.1f} s, success={inc['success']}; "
            f"ingest assets re-run: {len(reread)} ({', '.join(reread)})"
        )
    parts.append(similarity_summary(results))
    parts.append("ratios: " + ", ".join(f"{k} = {v:.2f}" for k, v in results["ratios"].items()))
    if "growth_from" in results:
        parts.append(f"growth from {results['growth_from']}")
    parts += results["verdicts"]
    parts.append(render_execution(results["execution"]))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get(ROWS_ENV, DEFAULT_ROWS)))
    parser.add_argument("--work", type=Path, default=REPO / ".bench")
    parser.add_argument("--no-incremental", dest="incremental", action="store_false")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = run(args.rows, args.work, args.incremental)
    print(render(results))
    print(f"\nwritten: {results_path(args.work, args.rows)}")


if __name__ == "__main__":
    main()
