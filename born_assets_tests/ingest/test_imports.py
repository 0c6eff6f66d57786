"""An import spec brings a public trace dataset in with full lineage, or says exactly why not.

Rows that do not fit the declared format are quarantined naming the field; synthetic rows that
cannot name their generator never get in; every row says when it was generated, from its record
or from the spec's declaration, and a spec that gives neither is refused at load; a bad spec
names its file and field.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from born_assets.ingest.files import ingest_files
from born_assets.ingest.import_rows import ImportContext, import_row
from born_assets.ingest.record import Origin
from born_assets.layout import DataDir
from born_assets.specs.common import SpecError
from born_assets.specs.imports import LoadedImport, load_import
from born_assets.traces.codec import decode_trace

SPEC = {
    "import_id": "chats",
    "name": "chats",
    "description": "test import",
    "owner": "team:data-eng",
    "source_url": "https://example.org/chats",
    "license": "MIT",
    "consent_basis": "test",
    "format": "sharegpt",
    "fields": {"id_field": "id", "model_field": "model", "timestamp_field": "ts"},
    "dataset_family": "chats",
    "source_type": "synthetic",
    "intended_use": "train",
    "files": {"path": "traces/chats"},
}
GOOD = {
    "id": "c1",
    "model": "m-1",
    "ts": "2026-04-13T21:38:56Z",
    "conversations": [
        {"from": "human", "value": "What is 2+2?"},
        {"from": "gpt", "value": "<think>simple sum</think>2+2 = 4."},
    ],
}


def FUNCTION_CALL(value: str) -> dict[str, str]:  # noqa: N802  (reads as the record it makes)
    return {"from": "function_call", "value": value}


def write_spec(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "imports" / "chats.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({**SPEC, **changes}))
    return path


def ingest(tmp_path: Path, records: list[object], **changes: object) -> tuple[list, list]:
    loaded = load_import(write_spec(tmp_path, **changes), DataDir.at(tmp_path))
    assert isinstance(loaded, LoadedImport), loaded
    folder = tmp_path / "traces" / "chats"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "out"
    out.mkdir()
    ingest_files(
        [folder / "a.jsonl"],
        origin=Origin("import", "chats", loaded.content_hash),
        data=DataDir.at(tmp_path),
        parse_row=partial(import_row, ImportContext(loaded)),
        out_dir=out,
    )
    return (
        pq.read_table(out / "rows.parquet").to_pylist(),
        pq.read_table(out / "quarantine.parquet").to_pylist(),
    )


def test_a_conversation_becomes_a_row_with_its_lineage(tmp_path: Path) -> None:
    (row,), quarantined = ingest(tmp_path, [GOOD])
    assert quarantined == []
    assert row["origin_kind"] == "import" and row["origin_id"] == "chats"
    assert row["source_id"] == "c1"
    assert row["generator_model"] == "m-1" and row["teacher_model"] == "m-1"
    assert row["generation_timestamp"].isoformat() == "2026-04-13T21:38:56+00:00"
    assert row["response_format"] == "turns"
    assert "What is 2+2?" in row["prompt"]
    assert row["timestamp_source"] == "record"
    trace = decode_trace(row["response"])
    assert trace.response_turns[0].role.value == "assistant"
    assert trace.prompt_turns[0].blocks[0].text == "What is 2+2?"


@pytest.mark.parametrize(
    ("record", "reason", "field"),
    [
        (
            {**GOOD, "conversations": [{"from": "martian", "value": "hi"}]},
            "format_mismatch",
            "conversations[0].from",
        ),
        ({**GOOD, "conversations": "hello"}, "format_mismatch", "conversations"),
        (
            {k: v for k, v in GOOD.items() if k != "conversations"},
            "format_mismatch",
            "conversations",
        ),
        ({**GOOD, "ts": "2026-04-13 21:38:56"}, "bad_timestamp", "ts"),
        ({**GOOD, "ts": "0001-01-01T00:00:00+01:00"}, "bad_timestamp", "ts"),
        ({**GOOD, "ts": 1e20}, "format_mismatch", "ts"),
        ({**GOOD, "ts": 18446744073709551615}, "format_mismatch", "ts"),
        # JSON inside a text is read as strictly as a record: no NaN, no lone surrogate, and
        # no deeper than the readers can walk (Python's json takes all three)
        (
            {**GOOD, "tools": '[{"name": "f", "parameters": {"maximum": NaN}}]'},
            "format_mismatch",
            "tools",
        ),
        ({**GOOD, "tools": '[{"name": "f\\ud800"}]'}, "format_mismatch", "tools"),
        ({**GOOD, "tools": "[" * 5000 + "]" * 5000}, "format_mismatch", "tools"),
        (
            {**GOOD, "conversations": [*GOOD["conversations"], FUNCTION_CALL("[" * 5000)]},
            "format_mismatch",
            "conversations[2].value",
        ),
    ],
)
def test_records_that_do_not_fit_are_quarantined_naming_the_field(
    tmp_path: Path, record: dict, reason: str, field: str
) -> None:
    rows, (bad,) = ingest(tmp_path, [GOOD, record])
    assert len(rows) == 1
    assert (bad["reason"], bad["field"]) == (reason, field)
    assert bad["message"].startswith("traces/chats/a.jsonl line 2")


def test_a_synthetic_row_without_a_model_is_quarantined(tmp_path: Path) -> None:
    fields = {"id_field": "id"}
    rows, (bad,) = ingest(
        tmp_path,
        [{k: v for k, v in GOOD.items() if k != "model"}],
        fields=fields,
        generated_at="2026-04-13",
    )
    assert rows == []
    assert bad["reason"] == "missing_provenance"


def test_the_spec_can_name_the_generator_and_the_zone_of_naive_times(tmp_path: Path) -> None:
    record = {**GOOD, "ts": "2026-04-13T21:38:56"}
    del record["model"]
    (row,), _ = ingest(
        tmp_path,
        [record],
        fields={"id_field": "id", "timestamp_field": "ts"},
        generator={"model": "gpt-4o", "version": "gpt-4o-2024-08-06"},
        assume_timezone="Europe/Paris",
    )
    assert row["generator_model"] == "gpt-4o"
    assert row["generator_version"] == "gpt-4o-2024-08-06"
    assert row["generation_timestamp"].isoformat() == "2026-04-13T19:38:56+00:00"


def test_rows_without_a_source_id_get_a_content_derived_one(tmp_path: Path) -> None:
    (row,), _ = ingest(tmp_path, [GOOD], fields={"model_field": "model"}, generated_at="2026-04-13")
    assert row["source_id"] == "sha256:" + row["prompt_hash"][:16]


def test_real_rows_name_no_generator(tmp_path: Path) -> None:
    (row,), _ = ingest(
        tmp_path,
        [{k: v for k, v in GOOD.items() if k != "model"}],
        source_type="real",
        fields={"id_field": "id"},
        generated_at="2026-04-13",
    )
    assert row["generator_model"] is None
    assert row["teacher_model"] == "source:chats"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format": "csv"}, "format"),
        ({"source_url": "not a url"}, "source_url"),
        ({"assume_timezone": "Mars/Olympus"}, "assume_timezone"),
        ({"fields": {"idfield": "id"}}, "fields.idfield"),
        ({"options": {"template": "chatml"}}, "options"),
        ({"format": "chat_template", "options": {"template": "jinja"}}, "options"),
        ({"format": "scored_rollout_group"}, "options"),
        ({"generated_at": {"from": "2026-05-01", "to": "2026-01-01"}}, "generated_at"),
        ({"generated_at": "2026-04-13T10:00:00"}, "generated_at"),
    ],
)
def test_a_bad_import_spec_names_the_field(tmp_path: Path, change: dict, field: str) -> None:
    error = load_import(write_spec(tmp_path, **change), DataDir.at(tmp_path))
    assert isinstance(error, SpecError)
    assert error.field == field


def test_a_row_without_its_time_takes_the_declared_one_and_says_so(tmp_path: Path) -> None:
    record = {k: v for k, v in GOOD.items() if k != "ts"}
    (with_time, declared), _ = ingest(
        tmp_path,
        [GOOD, {**record, "id": "c2"}],
        generated_at={"from": "2026-01-01", "to": "2026-03-31"},
    )
    assert (with_time["timestamp_source"], declared["timestamp_source"]) == ("record", "declared")
    assert declared["generation_timestamp"].isoformat() == "2026-03-31T23:59:59.999999+00:00"


def test_a_row_without_its_time_and_no_declaration_is_quarantined(tmp_path: Path) -> None:
    rows, (bad,) = ingest(tmp_path, [{k: v for k, v in GOOD.items() if k != "ts"}])
    assert rows == []
    assert (bad["reason"], bad["field"]) == ("missing_provenance", "ts")
    assert "declares no generated_at" in bad["message"]


def test_a_spec_with_no_source_of_time_is_refused_at_load(tmp_path: Path) -> None:
    error = load_import(write_spec(tmp_path, fields={"id_field": "id"}), DataDir.at(tmp_path))
    assert isinstance(error, SpecError)
    assert "generated_at" in error.message and "timestamp_field" in error.message
