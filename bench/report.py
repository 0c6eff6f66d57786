"""Turning measurements into the per-asset table, the reference ratios and the target verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MB = 1_000_000
MIB = 1 << 20
GIB = 1 << 30
TARGET_FLOOR_RATIO = 1.3  # end to end / max(parse floor, DuckDB floor), at 100k rows
TARGET_RSS_BYTES = 2 * GIB
TARGET_RSS_GROWTH = 1.5
TARGET_WALL_GROWTH = 11.0
TARGET_INCREMENTAL_SHARE = 0.20
TARGET_NO_CHANGE_S = 10.0  # at 100k rows
TARGETS_FROM_ROWS = 100_000  # the floor-ratio and no-change targets are set at this size


def _volume(plan: dict[str, Any], prefix: str) -> tuple[int, int]:
    files = [f for f in plan["files"] if f["path"].startswith(prefix)]
    return sum(f["lines"] for f in files), sum(f["bytes"] for f in files)


def _source_prefix(step: str) -> str | None:
    """The input folder an ingesting step reads (`lanes__x_y` -> `lanes/x-y/`), else None."""
    group, _, name = step.partition("__")
    if group == "lanes":
        return f"lanes/{name.replace('_', '-')}/"
    if group == "imports":
        return f"traces/{name.replace('_', '-')}/"
    return None


def _owner(step: str, assets: list[str]) -> str | None:
    """The asset step a check step belongs to (the longest asset key it extends)."""
    owners = [a for a in assets if step != a and step.startswith(a + "_")]
    return max(owners, key=len) if owners else None


def per_asset(steps: list[dict[str, Any]], plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per asset step: its wall, its checks' wall, rows and bytes it covers, rates, RSS."""
    keys = [s["step"] for s in steps]
    assets = [k for k in keys if _owner(k, keys) is None]
    rows: dict[str, dict[str, Any]] = {}
    for asset in assets:
        prefix = _source_prefix(asset)
        lines, size = _volume(plan, prefix) if prefix else (plan["lines"], plan["bytes"])
        rows[asset] = {"asset": asset, "seconds": 0.0, "checks_seconds": 0.0, "rows": lines}
        rows[asset].update(bytes=size, peak_rss_bytes=0)
    for step in steps:
        owner = _owner(step["step"], assets)
        row = rows[owner or step["step"]]
        row["checks_seconds" if owner else "seconds"] += step["seconds"]
        row["peak_rss_bytes"] = max(row["peak_rss_bytes"], step.get("peak_rss_bytes") or 0)
    for row in rows.values():
        total = row["seconds"] + row["checks_seconds"]
        row["rows_per_s"] = row["rows"] / total if total else None
        row["mb_per_s"] = row["bytes"] / MB / total if total else None
    return list(rows.values())


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(results: dict[str, Any]) -> str:
    """The per-asset table, the total and the references, as aligned text."""
    header = f"{'asset / run':<44} {'wall s':>8} {'checks s':>8} {'rows':>9} {'rows/s':>9} "
    header += f"{'MB/s':>7} {'peak RSS MB':>11}"
    lines = [header, "-" * len(header)]
    for row in results["full"]["assets"]:
        lines.append(
            f"{row['asset']:<44} {row['seconds']:>8.1f} {row['checks_seconds']:>8.1f} "
            f"{row['rows']:>9} {_fmt(row['rows_per_s'], '9.0f')} {_fmt(row['mb_per_s'], '7.2f')} "
            f"{row['peak_rss_bytes'] / MIB:>11.0f}"
        )
    full = results["full"]
    overhead = full["process"]["wall_s"] - sum(s["seconds"] for s in full["steps"])
    lines.append(f"{'(outside steps: imports, definitions, run setup)':<44} {overhead:>8.1f}")
    lines.append("-" * len(header))
    corpus = results["corpus"]
    lines.append(f"{'whole process':<44} {'wall s':>8} {'cpu s':>8}")
    for name, run in (("END TO END (materialize_release)", results["full"]), *_references(results)):
        process = run["process"]
        wall, cpu = process["wall_s"], process["user_s"] + process["sys_s"]
        lines.append(
            f"{name:<44} {wall:>8.1f} {cpu:>8.1f} {corpus['lines']:>9} "
            f"{corpus['lines'] / wall:>9.0f} {corpus['bytes'] / MB / wall:>7.2f} "
            f"{process['peak_rss_bytes'] / MIB:>11.0f}"
        )
    tree = results["full"]["process"].get("peak_tree_rss_bytes")
    if tree:
        lines.append(
            f"(peak RSS of the build with its fork server and workers: {tree / MIB:.0f} MB)"
        )
    return "\n".join(lines)


def _references(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    names = {
        "duckdb": "reference: DuckDB floor",
        "python": "reference: plain Python merge",
        "parse": "reference: parse floor (distinct gate blocks)",
    }
    return [(names[k], v) for k, v in results.get("references", {}).items()]


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """End to end over each reference and over the larger floor; rebuilds over the full build."""
    full = results["full"]["process"]["wall_s"]
    refs = {k: v["process"]["wall_s"] for k, v in _refs(results)}
    out = {f"end_to_end/{k}": full / wall for k, wall in refs.items()}
    floors = [refs[k] for k in ("parse", "duckdb") if k in refs]
    if floors:
        out["end_to_end/max_floor"] = full / max(floors)
    for rebuild in ("no_change", "incremental"):
        if rebuild in results:
            out[f"{rebuild}/full"] = results[rebuild]["process"]["wall_s"] / full
    return out


def _refs(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return list(results.get("references", {}).items())


def growth(small: dict[str, Any], large: dict[str, Any]) -> dict[str, float]:
    """How wall time and peak RSS grow from a smaller corpus to a larger one."""
    return {
        "rows_ratio": large["corpus"]["lines"] / small["corpus"]["lines"],
        "wall_ratio": large["full"]["process"]["wall_s"] / small["full"]["process"]["wall_s"],
        "rss_ratio": large["full"]["process"]["peak_rss_bytes"]
        / small["full"]["process"]["peak_rss_bytes"],
    }


def verdicts(results: dict[str, Any], smaller: dict[str, Any] | None) -> list[str]:
    """The issue's targets, each PASS / FAIL with the figure (those that apply to this size)."""
    out = []
    figures = ratios(results)
    rss = results["full"]["process"]["peak_rss_bytes"]
    at = "" if results["corpus"]["lines"] >= TARGETS_FROM_ROWS else " (target set at 100k rows)"
    if "end_to_end/max_floor" in figures:
        name = f"end to end / max(parse floor, DuckDB floor){at}"
        out.append(_verdict(name, figures["end_to_end/max_floor"], TARGET_FLOOR_RATIO))
    out.append(_verdict("peak RSS GiB (< 2 at 1M)", rss / GIB, TARGET_RSS_BYTES / GIB))
    if smaller is not None:
        grown = growth(smaller, results)
        out.append(_verdict("peak RSS growth", grown["rss_ratio"], TARGET_RSS_GROWTH))
        out.append(
            _verdict(
                "wall growth", grown["wall_ratio"], TARGET_WALL_GROWTH * grown["rows_ratio"] / 10
            )
        )
    if "incremental/full" in figures:
        out.append(
            _verdict("incremental / full", figures["incremental/full"], TARGET_INCREMENTAL_SHARE)
        )
    if "no_change" in results:
        wall = results["no_change"]["process"]["wall_s"]
        out.append(_verdict(f"no-change rebuild seconds{at}", wall, TARGET_NO_CHANGE_S))
    return out


def _verdict(name: str, value: float, limit: float) -> str:
    return f"{'PASS' if value <= limit else 'FAIL'}  {name}: {value:.3g} (target <= {limit:.3g})"


def results_path(work: Path, rows: int) -> Path:
    """Where the figures of one corpus size are written."""
    return work / f"results-{rows}.json"


def similarity_summary(results: dict[str, Any]) -> str:
    """Near-dedup against exact dedup, the index build, and `born similar` query latency."""
    full = results["full"]
    dedup = full.get("dedup", {})
    parts = []
    if dedup.get("exact_dedup_seconds"):
        exact, near = dedup["exact_dedup_seconds"], dedup.get("near_dedup_seconds", 0.0)
        parts.append(f"exact dedup {exact:.2f} s, near dedup {near:.2f} s ({near / exact:.1f}x)")
    index = [a for a in full.get("assets", []) if a["asset"].startswith("similarity_index")]
    if index:
        parts.append(
            f"similarity index build {index[0]['seconds']:.1f} s "
            f"(peak RSS {index[0]['peak_rss_bytes'] / MIB:.0f} MB)"
        )
    query = results.get("similarity", {})
    if "output" in query and "query_median_s" in query["output"]:
        out = query["output"]
        parts.append(
            f"born similar on {out['rows']} rows: open {out['open_s']:.3f} s, query median "
            f"{out['query_median_s']:.3f} s (max {out['query_max_s']:.3f} s), reworded row "
            f"first {out['reworded_row_first']}/{out['queries']}, peak RSS "
            f"{query['process']['peak_rss_bytes'] / MIB:.0f} MB"
        )
    elif "output" in query:  # the child failed: its last error line, never nothing
        error = query["output"].get("error") or ["no figures"]
        parts.append(f"born similar queries FAILED: {error[-1].strip()}")
    return "similarity: " + ("; ".join(parts) or "not measured")


def _asset(results: dict[str, Any], run: str, name: str) -> dict[str, Any] | None:
    return next((a for a in results.get(run, {}).get("assets", []) if a["asset"] == name), None)


def _rate(rows: int | None, seconds: float | None) -> str:
    if not rows or not seconds:
        return "-"
    return f"{rows / seconds:,.0f} rows/s"


def stages(results: dict[str, Any]) -> str:
    """The stages added since the last baseline, each with its own rows/s."""
    lines = ["new stages (rows/s of each on its own input):"]
    dedup = _asset(results, "full", "deduplicated")
    near = results["full"].get("dedup", {}).get("near_dedup_seconds")
    if dedup is not None:
        lines.append(
            f"  near-dedup (MinHash, inside deduplicated): {near or 0:.1f} s, "
            f"{_rate(dedup['rows'], near)}"
        )
    for name in ("similarity_index", "executed"):
        row = _asset(results, "full", name)
        if row is not None:
            seconds = row["seconds"] + row["checks_seconds"]
            lines.append(f"  {name} step: {seconds:.1f} s, {_rate(row['rows'], seconds)}")
    tools = results.get("tool_calls", {}).get("output", {})
    if "rows" in tools:
        lines.append(
            f"  tool-call validation (inside gated; timed alone, one core): "
            f"{tools['seconds']:.2f} s"
            f" over {tools['rows']} rows with {tools['tool_calls']} calls, "
            f"{_rate(tools['rows'], tools['seconds'])}"
        )
    lines.append("  executed on real code: see the executed stage section below (reported apart)")
    return "\n".join(lines)


def rebuilds(results: dict[str, Any]) -> str:
    """The no-change and the +10% rebuilds, each as a share of the full build."""
    full = results["full"]["process"]["wall_s"]
    lines = []
    if "no_change" in results:
        run = results["no_change"]
        slow = sorted(run["assets"], key=lambda a: -(a["seconds"] + a["checks_seconds"]))[:5]
        lines.append(
            f"no-change rebuild (v1 again): {run['process']['wall_s']:.1f} s = "
            f"{run['process']['wall_s'] / full:.2f} of the full build, success={run['success']}, "
            f"release.json unchanged={run['release_json_unchanged']}; slowest steps: "
            + ", ".join(f"{a['asset']} {a['seconds'] + a['checks_seconds']:.1f}s" for a in slow)
        )
    if "incremental" in results:
        inc = results["incremental"]
        reread = [
            f"{a['asset']} {a['seconds']:.1f}s"
            for a in inc["assets"]
            if a["asset"].startswith(("lanes__", "imports__"))
        ]
        lines.append(
            f"incremental (+{inc['added_rows']} rows in {inc['added_file']}): "
            f"{inc['process']['wall_s']:.1f} s = {inc['process']['wall_s'] / full:.2f} of the full "
            f"build, success={inc['success']}; ingest assets re-run: {len(reread)} "
            f"({', '.join(reread)}); release rows in copied shards: "
            f"{inc.get('release_rows_reused')}"
        )
    return "\n".join(lines) or "rebuilds: not measured"
