"""Generation makes a row and its lineage in one step, survives crashes, and never pays twice.

A row whose lineage is written later is a row whose lineage gets lost; a generation that repeats
after a crash pays the teacher twice and puts duplicates in the data. These tests run the real
client against a real local HTTP server (`openai_stub`) with scripted failures.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from born_assets.generation.attempts import (
    LaneBusyError,
    generation_key,
    lane_lock,
    ledger_path,
)
from born_assets.generation.client import EndpointError, parse_retry_after
from born_assets.generation.generate import GenerationSummary, generate_lane
from born_assets.generation.plan import chat_client, plan_generation
from born_assets.generation.records import missing_sections
from born_assets.generation.tasks import GenerationConfigError
from born_assets.ingest.files import ingest_files
from born_assets.ingest.lane_rows import LaneContext, lane_row
from born_assets.ingest.record import Origin
from born_assets.layout import DataDir
from born_assets.schemas.identity import canonical_json, prompt_hash
from born_assets.specs.common import SpecError
from born_assets.specs.generation import GenerationSpec
from born_assets.specs.manifests import LoadedManifest, load_manifest
from born_assets.text.closure import Section
from born_assets_tests.conftest import REPO
from born_assets_tests.openai_stub import (
    REPORTED_MODEL,
    OpenAIStub,
    Reply,
    ok,
    raw,
    running,
    slow,
    status,
)

LANE = "gen-lane"
MANIFEST = """\
lane_id: gen-lane
description: Tasks answered by a stub teacher.
owner: team:data-eng
benchmark_family: mbpp_plus
teacher: {model: stub-teacher, version: stub-teacher-v0}
source_type: SOURCE_TYPE
tasks: {file: tasks/gen.jsonl, id_field: task_id}
prompt_template: {id: closure-v1, path: prompt_templates/closure-v1.txt}
sampling_params: SAMPLING
intended_use: train
license: MIT
consent_basis: test fixture
output: {path: lanes/gen-lane}
generated_at: {to: 2026-01-01}   # read only for a lane that is not synthetic
"""
FAST = {"timeout_s": 2.0, "backoff_s": 0.01, "max_backoff_s": 1.0, "concurrency": 2}


def task_id(n: int) -> str:
    return f"Gen/{n:02d}"


def make_lane(
    data_dir: Path,
    tasks: int = 4,
    *,
    source_type: str = "synthetic",
    sampling: str = "{temperature: 0.2, max_tokens: 512}",
) -> LoadedManifest:
    (data_dir / "manifests").mkdir(parents=True, exist_ok=True)
    (data_dir / "tasks").mkdir(exist_ok=True)
    (data_dir / "prompt_templates").mkdir(exist_ok=True)
    shutil.copy(REPO / "data/prompt_templates/closure-v1.txt", data_dir / "prompt_templates")
    lines = [
        orjson.dumps({"task_id": task_id(n), "prompt": f"Write f{n}() for {task_id(n)}."})
        for n in range(tasks)
    ]
    (data_dir / "tasks" / "gen.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    text = MANIFEST.replace("SOURCE_TYPE", source_type).replace("SAMPLING", sampling)
    path = data_dir / "manifests" / f"{LANE}.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_manifest(path, DataDir.at(data_dir))
    assert not isinstance(loaded, SpecError), loaded
    return loaded


def run(
    data_dir: Path, stub: OpenAIStub, *, label: str = "t", **settings: Any
) -> GenerationSummary:
    loaded = load_manifest(data_dir / "manifests" / f"{LANE}.yaml", DataDir.at(data_dir))
    assert isinstance(loaded, LoadedManifest)
    spec = GenerationSpec.model_validate({**FAST, **settings})
    plan = plan_generation(loaded, spec, DataDir.at(data_dir))
    client = chat_client(spec, stub.base_url, "sk-test", jitter=False)
    return generate_lane(plan, client, run_label=label)


def rows(data_dir: Path) -> list[dict[str, Any]]:
    files = sorted((data_dir / "lanes" / LANE).glob("*.jsonl"))
    return [orjson.loads(line) for path in files for line in path.read_bytes().splitlines()]


def ledger(data_dir: Path) -> list[dict[str, Any]]:
    path = ledger_path(DataDir.at(data_dir), LANE)
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_every_row_carries_the_lineage_of_the_request_that_made_it(tmp_path: Path) -> None:
    loaded = make_lane(tmp_path, 4)
    with running(OpenAIStub()) as stub:
        summary = run(tmp_path, stub, seed=11)
    assert (summary.rows_written, summary.already_done, summary.given_up) == (4, 0, 0)
    sent = {s.body["messages"][0]["content"]: s for s in stub.seen}
    context = LaneContext(loaded)
    for number, row in enumerate(rows(tmp_path), start=1):
        request = sent[row["prompt"]]  # the prompt on the row is the prompt as sent, exactly
        assert request.headers["Authorization"] == "Bearer sk-test"
        assert request.body["model"] == "stub-teacher"
        assert request.body["seed"] == 11 and request.body["temperature"] == 0.2
        assert row["prompt_hash"] == prompt_hash(request.prompt)
        assert row["teacher_model"] == "stub-teacher"
        assert row["generator_version"] == REPORTED_MODEL
        assert row["prompt_template_id"] == "closure-v1"
        assert row["prompt_template_sha256"] == loaded.template_hash
        assert row["sampling_params"] == {"temperature": 0.2, "max_tokens": 512, "seed": 11}
        assert row["seed"] == 11
        assert row["request_id"].startswith("req_stub_")
        assert row["response_id"].startswith("chatcmpl-stub-")
        assert row["usage"]["total_tokens"] > 0 and row["latency_ms"] >= 0
        assert row["generation_timestamp"].endswith("Z")
        assert row["generation_key"] == generation_key(
            row["task_id"], loaded.template_hash, row["sampling_params"], 11, "stub-teacher"
        )
        record = lane_row(context, row, f"lanes/{LANE}/generated-t.jsonl", number)
        assert record["generator_version"] == REPORTED_MODEL
        assert record["generator_model"] == "stub-teacher"
        assert record["sampling_params"] == canonical_json(row["sampling_params"])
        assert record["generation_timestamp"] is not None
    assert {r["status"] for r in ledger(tmp_path)} == {"ok"}


def test_the_lane_ingest_accepts_every_generated_row(tmp_path: Path) -> None:
    loaded = make_lane(tmp_path, 3)
    with running(OpenAIStub()) as stub:
        run(tmp_path, stub)
    out = tmp_path / "out"
    out.mkdir()
    summary = ingest_files(
        DataDir.at(tmp_path).source_files(loaded.manifest.output.path, loaded.manifest.output.glob),
        origin=Origin("lane", LANE, loaded.content_hash),
        data=DataDir.at(tmp_path),
        parse_row=lambda record, file, line: lane_row(LaneContext(loaded), record, file, line),
        out_dir=out,
    )
    assert (summary.accepted, summary.quarantined_total) == (3, 0), summary.example_messages


def test_a_second_run_sends_nothing_and_a_new_seed_makes_new_keys(tmp_path: Path) -> None:
    make_lane(tmp_path, 3)
    with running(OpenAIStub()) as stub:
        run(tmp_path, stub, seed=1)
        again = run(tmp_path, stub, seed=1, label="u")
        assert (again.rows_written, again.already_done, len(stub.seen)) == (0, 3, 3)
        changed = run(tmp_path, stub, seed=2)
    assert (changed.rows_written, changed.already_done) == (3, 0)
    keys = Counter(r["generation_key"] for r in rows(tmp_path))
    assert len(keys) == 6 and set(keys.values()) == {1}


def test_429_waits_for_retry_after_then_succeeds(tmp_path: Path) -> None:
    make_lane(tmp_path, 1)
    script = {task_id(0): [status(429, {"Retry-After": "0.3"}), ok()]}
    with running(OpenAIStub(script)) as stub:
        run(tmp_path, stub)
    first, second = stub.seen
    assert second.at - first.at >= 0.3
    (row,) = rows(tmp_path)
    assert row["http_retries"] == 1 and row["attempt"] == 1


def test_5xx_is_retried_with_backoff(tmp_path: Path) -> None:
    make_lane(tmp_path, 1)
    with running(OpenAIStub({task_id(0): [status(500), status(503), ok()]})) as stub:
        run(tmp_path, stub)
    (row,) = rows(tmp_path)
    assert row["http_retries"] == 2 and len(stub.seen) == 3


def test_exhausted_retries_are_a_failed_attempt_and_the_task_is_given_up(tmp_path: Path) -> None:
    make_lane(tmp_path, 2)
    with running(OpenAIStub({task_id(0): [status(500)] * 10})) as stub:
        summary = run(tmp_path, stub, max_retries=1, max_attempts=2)
        assert summary.failures == Counter({"http_error": 2}) and summary.given_up == 1
        later = run(tmp_path, stub, max_retries=1, max_attempts=2)
        assert later.given_up == 1 and len(stub.requests_for(task_id(0))) == 4
    assert [r["task_id"] for r in rows(tmp_path)] == [task_id(1)]
    failed = [r for r in ledger(tmp_path) if r["status"] == "failed"]
    assert [(r["attempt"], r["http_status"], r["http_retries"]) for r in failed] == [
        (1, 500, 1),
        (2, 500, 1),
    ]


def test_a_timeout_is_a_failed_attempt_then_retried(tmp_path: Path) -> None:
    make_lane(tmp_path, 1)
    with running(OpenAIStub({task_id(0): [slow(1.5)]})) as stub:
        summary = run(tmp_path, stub, timeout_s=0.3)
    assert summary.failures == Counter({"timeout": 1})
    (row,) = rows(tmp_path)
    assert row["attempt"] == 2
    (failure,) = [r for r in ledger(tmp_path) if r["status"] == "failed"]
    assert failure["reason"] == "timeout" and failure["attempt"] == 1


NO_SECTIONS = "Here is the answer: use a loop."
INVALID = [
    pytest.param(raw(b'{"choices": [ truncated'), "malformed_json", id="malformed-json"),
    pytest.param(raw(b'{"model": "m", "choices": []}'), "no_choices", id="no-choices"),
    pytest.param(ok(" \n"), "empty_content", id="empty-content"),
    pytest.param(ok(NO_SECTIONS), "missing_sections", id="missing-sections"),
    pytest.param(
        raw(b'{"choices": [{"message": {"content": "## Code\\nx"}}]}'),
        "missing_model",
        id="missing-model",
    ),
]


@pytest.mark.parametrize(("reply", "reason"), INVALID)
def test_an_invalid_response_is_an_attempt_never_a_row(
    tmp_path: Path, reply: Reply, reason: str
) -> None:
    make_lane(tmp_path, 1)
    with running(OpenAIStub({task_id(0): [reply]})) as stub:
        summary = run(tmp_path, stub, max_attempts=1)
    assert rows(tmp_path) == [] and summary.given_up == 1
    (entry,) = ledger(tmp_path)
    assert (entry["status"], entry["reason"]) == ("failed", reason)
    if reason == "missing_sections":
        assert entry["response"] == NO_SECTIONS and "code" in entry["error"]
        assert entry["client_request_id"] == stub.seen[0].headers["X-Client-Request-Id"]


def test_an_invalid_response_is_retried_up_to_max_attempts(tmp_path: Path) -> None:
    make_lane(tmp_path, 1)
    with running(OpenAIStub({task_id(0): [ok(NO_SECTIONS), ok(NO_SECTIONS)]})) as stub:
        summary = run(tmp_path, stub, max_attempts=3)
    assert summary.failures == Counter({"missing_sections": 2})
    assert [r["attempt"] for r in rows(tmp_path)] == [3]


def test_a_refusing_endpoint_stops_the_lane_without_spending_attempts(tmp_path: Path) -> None:
    make_lane(tmp_path, 3)
    with running(OpenAIStub({"Task:": [status(401)]})) as stub:  # the key was revoked, once
        with pytest.raises(EndpointError, match="401"):
            run(tmp_path, stub, concurrency=1)
        assert len(stub.seen) == 1  # the lane stopped at the first refusal
        run(tmp_path, stub, concurrency=1)
    assert len(rows(tmp_path)) == 3
    assert {r["status"] for r in ledger(tmp_path)} == {"ok"}


def test_concurrency_and_rate_limit_are_bounded(tmp_path: Path) -> None:
    make_lane(tmp_path, 8)
    with running(OpenAIStub(delay_s=0.1)) as stub:
        run(tmp_path, stub, concurrency=3)
    assert stub.max_in_flight == 3
    make_lane(tmp_path / "limited", 5)
    with running(OpenAIStub()) as stub:
        run(tmp_path / "limited", stub, concurrency=4, requests_per_second=10)
    starts = sorted(s.at for s in stub.seen)
    assert starts[-1] - starts[0] >= 0.35  # 5 starts at least 0.1 s apart


def test_a_torn_last_line_is_cut_and_its_task_generated_again(tmp_path: Path) -> None:
    make_lane(tmp_path, 2)
    with running(OpenAIStub()) as stub:
        run(tmp_path, stub)
        path = tmp_path / "lanes" / LANE / "generated-t.jsonl"
        first, second = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(first + second[:40])  # a crash in the middle of the second write
        summary = run(tmp_path, stub)
    assert summary.torn_bytes_removed == 40 and summary.rows_written == 1
    assert sorted(r["task_id"] for r in rows(tmp_path)) == [task_id(0), task_id(1)]


def test_a_second_run_on_the_same_lane_is_refused_while_one_runs(tmp_path: Path) -> None:
    make_lane(tmp_path, 1)
    with lane_lock(ledger_path(DataDir.at(tmp_path), LANE)), running(OpenAIStub()) as stub:
        with pytest.raises(LaneBusyError, match="another run"):
            run(tmp_path, stub)
        assert stub.seen == []


def test_an_unreachable_endpoint_is_retried_then_recorded(tmp_path: Path) -> None:
    loaded = make_lane(tmp_path, 1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    spec = GenerationSpec.model_validate({**FAST, "max_retries": 2, "max_attempts": 1})
    client = chat_client(spec, f"http://127.0.0.1:{port}/v1", None, jitter=False)
    summary = generate_lane(
        plan_generation(loaded, spec, DataDir.at(tmp_path)), client, run_label="t"
    )
    assert summary.failures == Counter({"connection_error": 1})
    (entry,) = ledger(tmp_path)
    assert (entry["reason"], entry["http_retries"]) == ("connection_error", 2)


CRASH_SCRIPT = """
import sys
from pathlib import Path
from born_assets.generation.generate import generate_lane
from born_assets.layout import DataDir
from born_assets.generation.plan import chat_client, plan_generation
from born_assets.specs.generation import GenerationSpec
from born_assets.specs.manifests import load_manifest
manifest, data_dir, base_url, spec_json = sys.argv[1:]
loaded = load_manifest(Path(manifest), DataDir.at(Path(data_dir)))
spec = GenerationSpec.model_validate_json(spec_json)
plan = plan_generation(loaded, spec, DataDir.at(Path(data_dir)))
generate_lane(plan, chat_client(spec, base_url, "sk-test"), run_label="t")
"""


def _wait_for_lines(path: Path, count: int, deadline_s: float) -> int:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        lines = path.read_bytes().count(b"\n") if path.exists() else 0
        if lines >= count:
            return lines
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached {count} lines")


def test_a_run_killed_mid_lane_resumes_without_duplicates_or_gaps(tmp_path: Path) -> None:
    tasks = 16
    make_lane(tmp_path, tasks)
    spec_json = orjson.dumps({**FAST, "concurrency": 2}).decode()
    out = tmp_path / "lanes" / LANE / "generated-t.jsonl"
    with running(OpenAIStub(delay_s=0.15)) as stub:
        args = [str(tmp_path / "manifests" / f"{LANE}.yaml"), str(tmp_path), stub.base_url]
        child = subprocess.Popen(
            [sys.executable, "-c", CRASH_SCRIPT, *args, spec_json], cwd=tmp_path
        )
        try:
            _wait_for_lines(out, 4, deadline_s=30)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        assert child.returncode == -signal.SIGKILL
        before = len(rows(tmp_path))
        assert 4 <= before < tasks
        summary = run(tmp_path, stub, concurrency=2)
    assert summary.already_done == before and summary.rows_written == tasks - before
    produced = Counter(r["task_id"] for r in rows(tmp_path))
    assert produced == Counter({task_id(n): 1 for n in range(tasks)})  # no gap, no duplicate
    assert len(stub.seen) <= tasks + 2  # at most the two in-flight requests were lost


def test_generation_refuses_a_lane_it_cannot_drive(tmp_path: Path) -> None:
    spec = GenerationSpec()
    real = make_lane(tmp_path / "real", source_type="real")
    with pytest.raises(GenerationConfigError, match="source_type"):
        plan_generation(real, spec, DataDir.at(tmp_path / "real"))
    streaming = make_lane(tmp_path / "stream", sampling="{stream: true}")
    with pytest.raises(GenerationConfigError, match="sampling_params: stream"):
        plan_generation(streaming, spec, DataDir.at(tmp_path / "stream"))
    seeded = make_lane(tmp_path / "seeded", sampling="{seed: 3}")
    with pytest.raises(GenerationConfigError, match="generation.seed"):
        plan_generation(seeded, GenerationSpec(seed=4), DataDir.at(tmp_path / "seeded"))
    renamed = make_lane(tmp_path / "renamed")
    with pytest.raises(GenerationConfigError, match="'question'"):
        plan_generation(
            renamed,
            GenerationSpec(template_fields={"prompt": "question"}),
            DataDir.at(tmp_path / "renamed"),
        )


def test_the_generation_block_validates_like_the_rest_of_a_manifest() -> None:
    spec = GenerationSpec.model_validate({"seed": 7, "concurrency": 8})
    assert (spec.base_url_env, spec.api_key_env, spec.max_attempts) == (
        "BORN_TEACHER_BASE_URL",
        "BORN_TEACHER_API_KEY",
        3,
    )
    for bad in ({"concurrency": 0}, {"base_url_env": "http://x"}, {"retries": 2}):
        with pytest.raises(ValueError):
            GenerationSpec.model_validate(bad)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "150", "retry-after": "9"}, 0.15),
        ({"retry-after": "Thu, 01 Jan 1970 00:00:10 GMT"}, 5.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_seconds(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers, now=5.0) == seconds


CLOSED = "```python\nx = 1\n```"


@pytest.mark.parametrize(
    ("response", "missing"),
    [
        (f"## Plan\np\n\n## Code\n{CLOSED}\n\n## Checks\nc\n\n## Result\nr", []),
        ("## Patch\n```diff\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n```", []),
        ("## Code\n_Not present in the source._\n", ["code"]),
        (f"<think>\n## Code\n{CLOSED}\n</think>\nJust use x = 1.", ["code"]),
        (f"```python\n## Code\n```\n{CLOSED}", ["code"]),
    ],
)
def test_required_sections_are_read_as_the_structural_gate_reads_them(
    response: str, missing: list[str]
) -> None:
    assert missing_sections(response, (Section.CODE,)) == missing
