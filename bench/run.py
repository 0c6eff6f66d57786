"""`make bench`: generate a corpus, build it through Dagster, run the references, report.

    BENCH_ROWS=100000 python -m bench.run [--rows N] [--work .bench] [--no-incremental]

1. Generates (or reuses, when its spec and files match) a seeded corpus in `.bench/corpus-N/`.
2. Reads every input file once, so each measurement starts from the page cache.
3. Full build: `materialize_release(data_dir, "v1")` in a child process (`bench.graph_run`) with
   a fresh `DAGSTER_HOME`: wall, CPU and peak RSS of that process (`wait4`), each step's wall from
   the instance's event log and each step's peak RSS from sampling the child's VmRSS.
4. The references (`bench.references`), each in its own child process: the DuckDB floor and the
   plain Python merge on the same files, and the parse floor on every distinct block the syntax
   gate parsed (`bench.gate_blocks` collects them from the built warehouse). Tool-call validation
   alone (`bench.tool_calls`), since it runs inside the gates.
5. No change: `materialize_release(data_dir, "v1")` again on the unchanged corpus (every step
   should find its inputs unchanged; the release must come out byte-identical, a no-op).
6. Incremental: one new file with 10% of the rows in one lane, then `materialize_release(data_dir,
   "v2")`. Then the `executed` stage on the sample lanes (`bench.execution`: real code, reported
   apart).
7. Writes `.bench/results-N.json`, prints the table, the ratios, and the target verdicts
   (growth against the next smaller `results-*.json`, e.g. 100k against 1M).
"""

from __future__ import annotations

import argparse
import hashlib
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
from bench.references import input_files
from bench.report import (
    growth,
    per_asset,
    ratios,
    rebuilds,
    results_path,
    similarity_summary,
    stages,
    table,
    verdicts,
)
from born_assets.layout import DataDir

REPO = Path(__file__).resolve().parents[1]
ROWS_ENV = "BENCH_ROWS"
DEFAULT_ROWS = 100_000
INCREMENT_SHARE = 10  # the added file holds rows // INCREMENT_SHARE rows
INCREMENT_LANE = LANES[0].lane_id
OUTPUTS = (
    "warehouse",
    "releases",
    "similarity",
    "cache",
    "warehouse.duckdb",
    "warehouse.duckdb.wal",
)
"""Everything a build writes into the data dir: a full build starts from none of it (a check
result or a similarity index kept from an earlier build at the same code would be reused)."""


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


def measure_child(module: str, args: list[str], work: Path, name: str) -> dict[str, Any]:
    """`python -m module *args` in a child process: its cost and the JSON line it printed last."""
    log = work / f"{name}.log"
    measured: Measured = run_measured([sys.executable, "-m", module, *args], None, log, cwd=REPO)
    lines = log.read_text(encoding="utf-8").strip().splitlines()
    output = json.loads(lines[-1]) if measured.returncode == 0 and lines else {"error": lines[-5:]}
    return {"process": asdict(measured), "output": output}


def measure_references(data_dir: Path, work: Path, built: bool) -> dict[str, Any]:
    """The DuckDB floor, the plain Python merge, and (once `built`) the gate blocks' parse floor."""
    out_dir = work / "reference-out"
    results = {}
    for which in ("duckdb", "python"):
        args = [which, str(data_dir), str(out_dir)]
        results[which] = measure_child("bench.references", args, work, f"reference-{which}")
        shutil.rmtree(out_dir, ignore_errors=True)
    if not built:  # the parse floor's blocks are the ones the gate parsed in the build
        return results
    blocks = work / "gate-blocks.parquet"
    collected = measure_child("bench.gate_blocks", [str(data_dir), str(blocks)], work, "blocks")
    parse = measure_child("bench.references", ["parse", str(blocks), str(out_dir)], work, "parse")
    parse["output"] = {**parse["output"], "collected": collected["output"]}
    results["parse"] = parse
    blocks.unlink(missing_ok=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    return results


def _release_hash(data_dir: Path, version: str) -> str | None:
    path = DataDir.at(data_dir).release(version).release_json
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def measure_no_change(data_dir: Path, work: Path, rows: int) -> dict[str, Any]:
    """Build release v1 again with no input changed; it must publish nothing new."""
    before = _release_hash(data_dir, "v1")
    run = measure_graph(data_dir, "v1", work, f"nochange-{rows}")
    run["release_json_unchanged"] = before is not None and before == _release_hash(data_dir, "v1")
    return run


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
    }
    results["references"] = measure_references(data_dir, work, built=full["success"])
    if full["success"]:
        results["tool_calls"] = measure_child("bench.tool_calls", [str(data_dir)], work, "tools")
        query_args = [str(data_dir), "v1"]
        results["similarity"] = measure_child("bench.similar_queries", query_args, work, "similar")
    if incremental and full["success"]:
        no_change = measure_no_change(data_dir, work, rows)
        no_change["assets"] = per_asset(no_change["steps"], plan)
        results["no_change"] = no_change
        added_rows = max(1, rows // INCREMENT_SHARE)
        added = add_lane_file(spec, data_dir, INCREMENT_LANE, added_rows)
        drop_into_page_cache([added])
        inc = measure_graph(data_dir, "v2", work, f"incremental-{rows}")
        inc["added_file"] = added.relative_to(data_dir).as_posix()
        inc["added_rows"] = added_rows
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
    parts.append(stages(results))
    parts.append(rebuilds(results))
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
