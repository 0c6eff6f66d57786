"""Every bad line must end in quarantine with the exact named reason, file, line and field.

Nothing may vanish: a lane file of N lines gives N outcomes, and good lines around bad ones are
accepted with the full lineage record.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from born_assets.ingest.files import ingest_files
from born_assets.ingest.lane_rows import LaneContext, lane_row
from born_assets.ingest.record import Origin
from born_assets.layout import DataDir
from born_assets.specs.common import SpecError
from born_assets.specs.manifests import LoadedManifest, load_manifest
from born_assets_tests.conftest import SAMPLE_DATA

PROMPT = "Write a function to add two numbers."
GOOD = {
    "task_id": "Mbpp/1",
    "prompt": PROMPT,
    "response": "def add(a, b):\n    return a + b\n",
    "teacher_model": "teacher-x",
    "generation_timestamp": "2026-01-02T03:04:05Z",
}


def manifest(
    tmp_path: Path, source_type: str = "synthetic", generated_at: object = None
) -> LoadedManifest:
    path = tmp_path / "manifests" / "lane.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""
lane_id: lane-a
description: test lane
owner: team:data-eng
benchmark_family: mbpp_plus
teacher: {{model: teacher-x, version: "2026-01"}}
source_type: {source_type}
tasks: {{ids: ["Mbpp/1", "Mbpp/2", "7"]}}
prompt_template: {{id: t1, text: "{{prompt}}"}}
sampling_params: {{temperature: 0.2}}
intended_use: train
license: MIT
consent_basis: test
output: {{path: lanes/lane-a}}
"""
        + (f"generated_at: {json.dumps(generated_at)}\n" if generated_at else ""),
        encoding="utf-8",
    )
    loaded = load_manifest(path, DataDir.at(tmp_path))
    assert isinstance(loaded, LoadedManifest), loaded
    return loaded


def ingest(
    tmp_path: Path, lines: list[bytes], source_type: str = "synthetic", generated_at: object = None
) -> tuple[list, list]:
    loaded = manifest(tmp_path, source_type, generated_at)
    lane_dir = tmp_path / "lanes" / "lane-a"
    lane_dir.mkdir(parents=True, exist_ok=True)
    (lane_dir / "out.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    out = tmp_path / "out"
    out.mkdir()
    summary = ingest_files(
        [lane_dir / "out.jsonl"],
        origin=Origin("lane", "lane-a"),
        data=DataDir.at(tmp_path),
        parse_row=partial(lane_row, LaneContext(loaded)),
        out_dir=out,
    )
    assert summary.lines_read == len(lines)
    rows = pq.read_table(out / "rows.parquet").to_pylist()
    quarantined = pq.read_table(out / "quarantine.parquet").to_pylist()
    assert len(rows) + len(quarantined) == len(lines)
    return rows, quarantined


def line(**changes: object) -> bytes:
    row = {**GOOD, **changes}
    return json.dumps({k: v for k, v in row.items() if v is not ...}).encode()


CASES = [
    ("not_utf8", b'{"task_id": "Mbpp/1", "prompt": "caf\xe9"}', None),
    ("empty_line", b"   ", None),
    ("unparseable_json", b'{"task_id": "Mbpp/1", "prompt": ', None),
    ("unparseable_json", b'{"prompt": "\\ud800"}', None),
    ("not_an_object", b'["Mbpp/1"]', None),
    ("unparseable_json", b'{"task_id": "Mbpp/1", "x": ' + b"[" * 201 + b"]" * 201 + b"}", None),
    ("missing_field", line(response=...), "response"),
    ("missing_field", line(prompt=""), "prompt"),
    ("missing_field", line(task_id=None), "task_id"),
    ("mistyped_field", line(response=["def f(): pass"]), "response"),
    ("mistyped_field", line(sampling_params="t=0.2"), "sampling_params"),
    ("mistyped_field", line(prompt_hash="ABC"), "prompt_hash"),
    ("unknown_task", line(task_id="Mbpp/3"), "task_id"),
    ("teacher_mismatch", line(teacher_model="teacher-y"), "teacher_model"),
    ("source_type_mismatch", line(source_type="real"), "source_type"),
    (
        "prompt_hash_mismatch",
        line(prompt_hash=hashlib.sha256(b"other").hexdigest()),
        "prompt_hash",
    ),
    ("missing_provenance", line(teacher_model=...), "teacher_model"),
    ("missing_provenance", line(generation_timestamp=...), "generation_timestamp"),
    ("bad_timestamp", line(generation_timestamp="2026-01-02 03:04:05"), "generation_timestamp"),
    (
        "bad_timestamp",
        line(generation_timestamp="0001-01-01T00:00:00+01:00"),
        "generation_timestamp",
    ),
    (
        "bad_timestamp",
        line(generation_timestamp="9999-12-31T23:59:59-01:00"),
        "generation_timestamp",
    ),
    ("mistyped_field", line(generation_timestamp=1767323045), "generation_timestamp"),
]


@pytest.mark.parametrize(("reason", "raw", "field"), CASES)
def test_each_bad_line_is_quarantined_with_its_reason(
    tmp_path: Path, reason: str, raw: bytes, field: str | None
) -> None:
    rows, quarantined = ingest(tmp_path, [line(), raw, line(task_id="Mbpp/2")])
    assert [r["source_line"] for r in rows] == [1, 3]
    (bad,) = quarantined
    assert bad["reason"] == reason
    assert bad["field"] == field
    assert bad["source_line"] == 2
    assert bad["message"].startswith("lanes/lane-a/out.jsonl line 2")
    assert bad["raw_sha256"] == hashlib.sha256(raw).hexdigest()


def test_a_repeated_line_is_quarantined_as_a_duplicate_naming_the_example(tmp_path: Path) -> None:
    rows, quarantined = ingest(tmp_path, [line(), line(task_id="Mbpp/2"), line()])
    assert len(rows) == 2
    (dup,) = quarantined
    assert dup["reason"] == "duplicate_line"
    assert dup["example_id"] == rows[0]["example_id"]


def test_accepted_rows_carry_the_full_lineage_record(tmp_path: Path) -> None:
    (row,), _ = ingest(tmp_path, [line(prompt_hash=hashlib.sha256(PROMPT.encode()).hexdigest())])
    assert row["prompt_hash"] == hashlib.sha256(PROMPT.encode()).hexdigest()
    assert row["generator_model"] == "teacher-x"
    assert row["generator_version"] == "2026-01"
    assert row["teacher_model"] == "teacher-x"
    assert row["generation_lane"] == "lane-a"
    assert row["source_file"] == "lanes/lane-a/out.jsonl"
    assert row["sampling_params"] == '{"temperature":0.2}'
    assert row["generation_timestamp"].isoformat() == "2026-01-02T03:04:05+00:00"
    assert row["created_at"] == row["generation_timestamp"]
    assert row["prompt_template_id"] == "t1"
    assert row["pii_scan_status"] == "not_scanned"
    assert row["contains_real_pii"] is None


def test_integer_task_ids_are_read_as_text(tmp_path: Path) -> None:
    (row,), _ = ingest(tmp_path, [line(task_id=7)])
    assert row["source_id"] == "7"


def test_real_rows_need_no_generator_and_name_none(tmp_path: Path) -> None:
    rows, quarantined = ingest(
        tmp_path,
        [line(teacher_model=..., generation_timestamp=...), line(task_id="Mbpp/2")],
        source_type="real",
        generated_at={"from": "2021-08-16", "to": "2023-11-16"},
    )
    assert quarantined == []
    assert rows[0]["generator_model"] is None
    assert rows[0]["generator_version"] is None
    assert rows[0]["teacher_model"] == "teacher-x"
    # No time in the row: the manifest's declaration, its latest moment, and it says so.
    assert rows[0]["timestamp_source"] == "declared"
    assert rows[0]["generation_timestamp"].isoformat() == "2023-11-16T23:59:59.999999+00:00"
    assert rows[1]["timestamp_source"] == "record"


def test_a_lane_that_is_not_synthetic_must_declare_generated_at(tmp_path: Path) -> None:
    path = tmp_path / "manifests" / "lane.yaml"
    path.parent.mkdir(parents=True)
    text = (SAMPLE_DATA / "manifests" / "humaneval-reference.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("generated_at:", "# generated_at:"), encoding="utf-8")
    error = load_manifest(path, DataDir.at(SAMPLE_DATA))
    assert isinstance(error, SpecError)
    assert "declare `generated_at`" in error.message


def test_a_final_line_without_newline_and_crlf_endings_are_read(tmp_path: Path) -> None:
    loaded = manifest(tmp_path)
    lane_dir = tmp_path / "lanes" / "lane-a"
    lane_dir.mkdir(parents=True)
    (lane_dir / "out.jsonl").write_bytes(line() + b"\r\n" + line(task_id="Mbpp/2"))
    out = tmp_path / "out"
    out.mkdir()
    summary = ingest_files(
        [lane_dir / "out.jsonl"],
        origin=Origin("lane", "lane-a"),
        data=DataDir.at(tmp_path),
        parse_row=partial(lane_row, LaneContext(loaded)),
        out_dir=out,
    )
    assert (summary.lines_read, summary.accepted) == (2, 2)
