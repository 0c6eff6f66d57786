"""`born trace`: the whole chain of one example, from its source line to the releases holding it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from born_assets import layout
from born_assets.layout import Asset, DataDir

SOURCE_FIELDS = [
    "origin_kind",
    "origin_id",
    "source_benchmark",
    "source_id",
    "source_file",
    "source_line",
    "source_type",
    "teacher_model",
    "generator_model",
    "generator_version",
    "generation_timestamp",
    "timestamp_source",
    "created_at",
    "prompt_template_id",
    "prompt_template_sha256",
    "seed_example_id",
    "sampling_params",
    "prompt_hash",
    "manifest_hash",
    "license",
    "consent_basis",
    "intended_use",
    "prohibited_use",
    "eval_exclusion",
]
GATE_FIELDS = [
    "prompt_chars",
    "response_chars",
    "prompt_tokens_approx",
    "response_tokens_approx",
    "has_plan",
    "has_code",
    "has_checks",
    "has_result",
    "is_closure_format",
    "python_blocks_checked",
    "python_syntax_error_count",
    "is_structural_ok",
    "structural_reason",
    "is_format_ok",
    "format_reason",
    "is_length_ok",
    "length_reason",
    "row_kind",
    "tool_call_count",
    "tool_result_count",
    "is_tool_use_ok",
    "tool_use_reason",
    "soft_failure_reasons",
    "other_prompts_sharing_response",
    "is_gated_out",
    "gated_out_reason",
    "gated_out_threshold",
    "curation_score",
    "policy_sha256",
]


SANITIZE_FIELDS = ", ".join(
    [
        "post_processing",
        "sections_derived",
        "sections_absent",
        "hidden_blocks_removed",
        "hidden_chars_removed",
    ]
)
EXECUTION_FIELDS = (
    "require_tests, execution_status, execution_reason, execution_detail, tests_passed, "
    "tests_total, test_command, harness, duration_s, peak_memory_kb, isolation, interpreter, "
    "library_versions, is_cached, is_gated_out, score_factor"
)
CONTAMINATION_FIELDS = (
    "is_contaminated, method, eval_id, eval_item_id, eval_field, overlap_fraction, threshold"
)
_SOURCE_SQL = (
    f"SELECT {', '.join(SOURCE_FIELDS)} FROM read_parquet($p, union_by_name = true) "
    "WHERE example_id = $id"
)
_QUARANTINE_SQL = (
    "SELECT source_file, source_line, reason, field, message FROM read_parquet($p) "
    "WHERE example_id = $id"
)
_BY_ID = "SELECT {columns} FROM read_parquet($p) WHERE example_id = $id"


@dataclass(frozen=True)
class TracePaths:
    """Where each stage's tables are."""

    data: DataDir
    source_dirs: Sequence[Path]
    spec_files: dict[str, Path]  # origin id -> its manifest or import spec


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def _existing(paths: Sequence[Path]) -> list[str]:
    return [p.as_posix() for p in paths if p.exists()]


def trace(
    con: duckdb.DuckDBPyConnection, paths: TracePaths, example_id: str
) -> list[tuple[str, Any]]:
    """Sections of the chain as (title, content); content is a dict, a list, or a sentence."""
    key = {"id": example_id}
    rows = _existing([d / layout.ROWS for d in paths.source_dirs])
    source = _one(con, _SOURCE_SQL, {**key, "p": rows}) if rows else None
    if source is None:
        quarantine = _existing([d / layout.QUARANTINE for d in paths.source_dirs])
        found = _one(con, _QUARANTINE_SQL, {**key, "p": quarantine}) if quarantine else None
        if found is None:
            return [("not found", f"no example {example_id} in the warehouse")]
        return [("quarantined at ingest", found)]
    spec = paths.spec_files.get(source["origin_id"])
    spec_info = {"file": spec, "sha256": source["manifest_hash"]} if spec else "spec not found"
    sections: list[tuple[str, Any]] = [("source", source), ("spec", spec_info)]
    sections.append(
        ("sanitization", _stage(con, paths.data.stage(Asset.SANITIZED), SANITIZE_FIELDS, key))
    )
    sections.append(
        ("gates", _stage(con, paths.data.stage(Asset.GATED), ", ".join(GATE_FIELDS), key))
    )
    sections.append(("dedup", _dedup(con, paths.data.stage(Asset.DEDUPLICATED), key)))
    sections.append(
        ("tests run", _stage(con, paths.data.stage(Asset.EXECUTED), EXECUTION_FIELDS, key))
    )
    sections.append(
        (
            "contamination",
            _stage(con, paths.data.stage(Asset.CONTAMINATION), CONTAMINATION_FIELDS, key),
        )
    )
    line = (source["source_file"], source["source_line"])
    sections.append(("releases", _releases(con, paths.data, example_id, line)))
    return sections


def _stage(con: duckdb.DuckDBPyConnection, folder: Path, columns: str, key: dict[str, Any]) -> Any:
    rows_path = folder / layout.ROWS
    if not rows_path.exists():
        return "stage not built"
    row = _one(con, _BY_ID.format(columns=columns), {**key, "p": rows_path.as_posix()})
    if row is not None:
        return row
    exits = {**key, "p": (folder / layout.EXITS).as_posix()}
    exit_row = _one(con, _BY_ID.format(columns="fate, stage, reason, detail"), exits)
    return exit_row or "did not reach this stage"


def _dedup(con: duckdb.DuckDBPyConnection, folder: Path, key: dict[str, Any]) -> Any:
    if not (folder / layout.ROWS).exists():
        return "stage not built"
    rows = {**key, "p": (folder / layout.ROWS).as_posix()}
    kept = _one(con, _BY_ID.format(columns="duplicate_group_size"), rows)
    if kept is not None:
        return {"decision": "survivor", **kept}
    exits = {**key, "p": (folder / layout.EXITS).as_posix()}
    dropped = _one(con, _BY_ID.format(columns="reason, detail AS duplicate_of"), exits)
    return {"decision": "duplicate", **dropped} if dropped else "did not reach this stage"


_FATE_SQL = (
    "SELECT fate, stage, reason, detail FROM read_parquet($p) "
    "WHERE source_file = $file AND source_line = $line"
)


def _releases(
    con: duckdb.DuckDBPyConnection, data: DataDir, example_id: str, line: tuple[str, int]
) -> list[dict[str, Any]]:
    found = []
    for release in data.published_releases():
        folder = release.path
        params = {"p": release.fates.as_posix(), "file": line[0], "line": line[1]}
        fate = _one(con, _FATE_SQL, params)
        shard = None
        for path in release.shards():
            if _one(
                con, _BY_ID.format(columns="1 AS hit"), {"p": path.as_posix(), "id": example_id}
            ):
                shard = path.relative_to(folder).as_posix()
                break
        found.append(
            {"release": folder.name, "shard": shard, **(fate or {"fate": "not in this release"})}
        )
    return found


def format_trace(example_id: str, sections: list[tuple[str, Any]]) -> str:
    """The chain as indented text."""
    lines = [f"example {example_id}"]
    for title, content in sections:
        lines.append(f"{title}:")
        items = content if isinstance(content, list) else [content]
        for item in items:
            if isinstance(item, dict):
                lines += [f"  {k}: {v}" for k, v in item.items()]
            else:
                lines.append(f"  {item}")
            if isinstance(content, list):
                lines.append("")
    return "\n".join(lines).rstrip()
