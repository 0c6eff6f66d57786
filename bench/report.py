"""Turning measurements into the per-asset table, the reference ratios and the target verdicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MB = 1_000_000
MIB = 1 << 20
GIB = 1 << 30
TARGET_FLOOR_RATIO = 2.5
TARGET_RSS_BYTES = 2 * GIB
TARGET_RSS_GROWTH = 1.5
TARGET_WALL_GROWTH = 11.0
TARGET_INCREMENTAL_SHARE = 0.15


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
    return "\n".join(lines)


def _references(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    names = {
        "duckdb": "reference: DuckDB floor",
        "python": "reference: plain Python merge",
        "parse": "reference: ast.parse floor (2 processes)",
    }
    return [(names[k], v) for k, v in results.get("references", {}).items()]


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """End to end over each reference, and the incremental rebuild over the full build."""
    full = results["full"]["process"]["wall_s"]
    out = {f"end_to_end/{k}": full / v["process"]["wall_s"] for k, v in _refs(results)}
    if "incremental" in results:
        out["incremental/full"] = results["incremental"]["process"]["wall_s"] / full
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
    if "end_to_end/duckdb" in figures:
        out.append(_verdict("end to end / DuckDB floor", figures["end_to_end/duckdb"], 2.5))
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
    return "similarity: " + ("; ".join(parts) or "not measured")
