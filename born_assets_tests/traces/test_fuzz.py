"""Random JSON shapes and strings never crash an adapter or the sanitizer: every line gets one fate.

A public dataset holds whatever its authors wrote: lists where dicts belong, numbers for text,
NUL bytes, lone surrogates, tags left open. Each line must come out of an import as one row or
one named rejection, and each row out of the sanitizer as a visible row or a named empty reason,
never an exception that stops the run, and never with a control character left in it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from born_assets.ingest.import_rows import ImportContext, import_row
from born_assets.ingest.jsonl import parse_object
from born_assets.ingest.quarantine import RejectedLine
from born_assets.sanitize.pipeline import EmptyVisible, SanitizedRow, sanitize_row
from born_assets.specs.imports import ImportSpec, LoadedImport
from born_assets.text.control import CONTROL
from born_assets.traces.fields import FormatMismatch
from born_assets.traces.registry import FORMATS

KEYS = [
    "messages", "conversations", "role", "from", "content", "value", "text", "type", "id",
    "model", "timestamp", "created", "tools", "tool_calls", "function", "name", "arguments",
    "prompt", "response", "completion", "system", "score", "scores", "tokens", "trajectory",
    "history", "action", "observation", "thought", "instruction", "output", "input", "think",
]  # fmt: skip
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["user", "assistant", "system", "tool", "human", "gpt", "<think>x", "</think>", "\x00", "```"]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=25,
)
RECORDS = st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6)
OPTIONS = {"chat_template": {"template": "chatml"}, "scored_rollout_group": {"select": "first"}}
FIELDS = {"id_field": "id", "model_field": "model", "timestamp_field": "timestamp"}
PAIRS = {"prompt_response": {"prompt_field": "prompt", "response_field": "response"}}
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def context(fmt: str) -> ImportContext:
    spec = ImportSpec.model_validate(
        {
            "import_id": "fuzz",
            "name": "fuzz",
            "description": "fuzzed records",
            "owner": "team:data-eng",
            "source_url": "https://example.org/fuzz",
            "license": "MIT",
            "consent_basis": "test",
            "format": fmt,
            "options": OPTIONS.get(fmt, {}),
            "fields": {**FIELDS, **PAIRS.get(fmt, {})},
            "dataset_family": "fuzz",
            "source_type": "synthetic",
            "intended_use": "train",
            "files": {"path": "traces/fuzz"},
        }
    )
    return ImportContext(LoadedImport(spec, Path("imports/fuzz.yaml"), "0" * 64))


def fate(ctx: ImportContext, raw: bytes) -> str:
    """What ingest and sanitize make of one line: exactly one outcome, or the test fails."""
    try:
        row = import_row(ctx, parse_object(raw), "traces/fuzz/a.jsonl", 1)
    except RejectedLine as refused:
        return refused.rejection.reason.value
    try:
        result = sanitize_row(row["prompt"], row["response"], "turns")
    except FormatMismatch:
        return "format_mismatch"
    if isinstance(result, EmptyVisible):
        return result.reason
    assert isinstance(result, SanitizedRow)
    assert_no_control(result)
    return "accepted"


def assert_no_control(row: SanitizedRow) -> None:
    content: Any = [row.prompt, row.response, row.messages, row.tools]
    assert not CONTROL.search(orjson.dumps(content).decode("unicode_escape", errors="ignore"))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_adapter_gives_each_random_record_one_fate(fmt: str) -> None:
    ctx = context(fmt)

    @FUZZ
    @given(record=RECORDS)
    def one_line(record: dict[str, Any]) -> None:
        assert fate(ctx, json.dumps(record).encode())

    one_line()


@FUZZ
@given(raw=st.binary(max_size=60) | RECORDS.map(lambda r: json.dumps(r).encode()))
def test_random_bytes_get_one_fate(raw: bytes) -> None:
    assert fate(context("sharegpt"), raw)


@FUZZ
@given(prompt=TEXT | st.text(max_size=200), response=TEXT | st.text(max_size=200))
def test_the_sanitizer_never_crashes_and_releases_no_control_character(
    prompt: str, response: str
) -> None:
    result = sanitize_row(prompt, response, "text")
    if isinstance(result, SanitizedRow):
        assert_no_control(result)
        assert not CONTROL.search(result.prompt + result.response)
    else:
        assert isinstance(result, EmptyVisible) and result.reason


def test_a_nul_in_a_prompt_is_removed_and_recorded() -> None:
    result = sanitize_row("fix\x00 the\x07 bug", "done\x1b[0m", "text")
    assert isinstance(result, SanitizedRow)
    assert result.prompt == "fix the bug" and "\x1b" not in result.response
    (strip,) = [t for t in result.transforms if t.name == "strip_control_chars"]
    assert strip.detail == {"prompt_chars": 2, "response_chars": 1, "messages_chars": 3}
    assert result.transforms[-1].name == "rewrite_closure"


def test_a_pairs_spec_without_its_fields_is_refused_at_load_not_at_run() -> None:
    """Found by the fuzzing above: the adapter raised `ValueError` on every line instead."""
    with pytest.raises(ValueError, match="needs fields.prompt_field and fields.response_field"):
        ImportSpec.model_validate({**context("sharegpt").loaded.spec.model_dump(mode="json"),
                                   "format": "prompt_response"})  # fmt: skip
