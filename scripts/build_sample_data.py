"""Rebuild the sample lanes in data/ from the real public data in ../shared/data/real.

Run from the repo root: `python scripts/build_sample_data.py [REAL_DATA_DIR]`. Deterministic:
the same source files give byte-identical output. What each lane holds and why is in
data/README.md. The deliberately bad lines (so the quarantine is visible) are derived from real
rows, one per quarantine reason, and written to their own file in the lanes they concern.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

DATA = Path("data")


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of a JSONL file, at most `limit`."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def dump(row: dict[str, Any]) -> str:
    """One JSONL line, UTF-8 kept as is."""
    return json.dumps(row, ensure_ascii=False)


def write_lines(path: Path, lines: list[str]) -> None:
    """Write lines with a final newline each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def write_tasks(name: str, ids: list[str]) -> None:
    """The task id list a manifest points at."""
    write_lines(DATA / "tasks" / f"{name}.txt", [f"# task ids of {name}, one per line", *ids])


def humaneval(real: Path) -> None:
    """HumanEval prompts with canonical solutions, split over two files."""
    rows = read_jsonl(real / "benchmarks/humaneval/HumanEval.rows0-108.jsonl")
    out = [
        dump({"task_id": r["task_id"], "prompt": r["prompt"], "response": r["canonical_solution"]})
        for r in rows
    ]
    write_lines(DATA / "lanes/humaneval-reference/part-000.jsonl", out[:60])
    write_lines(DATA / "lanes/humaneval-reference/part-001.jsonl", out[60:])
    write_tasks("humaneval", [r["task_id"] for r in rows])


def mbpp_plus(real: Path) -> None:
    """MBPP+ prompts with canonical solutions, plus one file of bad lines."""
    rows = read_jsonl(real / "benchmarks/mbpp_plus/MbppPlus.rows0-265.jsonl")
    out = [
        dump({"task_id": r["task_id"], "prompt": r["prompt"], "response": r["canonical_solution"]})
        for r in rows
    ]
    write_lines(DATA / "lanes/mbpp-plus-reference/part-000.jsonl", out)
    write_tasks("mbpp_plus", [r["task_id"] for r in rows])
    good = json.loads(out[0])
    bad = [
        '{"task_id": "Mbpp/2", "prompt": "truncated',  # unparseable JSON
        "",  # empty line
        '["Mbpp/2", "a JSON array, not an object"]',  # not an object
        dump({"task_id": good["task_id"], "prompt": good["prompt"]}),  # missing response
        dump({**good, "response": 42}),  # mistyped response
        dump({**good, "task_id": "Mbpp/99999"}),  # task not assigned to the lane
        dump({**good, "teacher_model": "gpt-4o-2024-08-06"}),  # teacher not the lane's
        dump({**good, "prompt_hash": hashlib.sha256(b"another prompt").hexdigest()}),  # tampered
        dump({**good, "created_at": "yesterday"}),  # bad timestamp
        out[1],  # the same row as part-000.jsonl line 2: a duplicate line
    ]
    path = DATA / "lanes/mbpp-plus-reference/part-001-with-bad-lines.jsonl"
    write_lines(path, bad)
    with path.open("ab") as handle:  # a line that is not UTF-8
        handle.write(b'{"task_id": "Mbpp/3", "prompt": "caf\xe9", "response": "x"}\n')


def ds1000(real: Path, limit: int = 150) -> None:
    """DS-1000 prompts with reference code."""
    rows = read_jsonl(real / "benchmarks/ds1000/ds1000.problems0-666.jsonl", limit)
    out, ids = [], []
    for r in rows:
        meta = ast.literal_eval(r["metadata"]) if isinstance(r["metadata"], str) else r["metadata"]
        task_id = f"DS1000/{meta['problem_id']}"
        ids.append(task_id)
        out.append(
            dump({"task_id": task_id, "prompt": r["prompt"], "response": r["reference_code"]})
        )
    write_lines(DATA / "lanes/ds1000-reference/part-000.jsonl", out)
    write_tasks("ds1000", ids)


def bigcodebench(real: Path, limit: int = 120) -> None:
    """BigCodeBench instruct prompts with the reference program."""
    rows = read_jsonl(real / "benchmarks/bigcodebench/BigCodeBench.rows0-759.jsonl", limit)
    out = [
        dump(
            {
                "task_id": r["task_id"],
                "prompt": r["instruct_prompt"],
                "response": r["code_prompt"] + r["canonical_solution"],
            }
        )
        for r in rows
    ]
    write_lines(DATA / "lanes/bigcodebench-reference/part-000.jsonl", out)
    write_tasks("bigcodebench", [r["task_id"] for r in rows])


def swebench(real: Path, limit: int = 60) -> None:
    """SWE-bench Lite issues with gold patches."""
    rows = read_jsonl(real / "benchmarks/swebench_lite/swe-bench-lite-test.rows0-199.jsonl", limit)
    out = [
        dump(
            {
                "task_id": r["instance_id"],
                "prompt": r["problem_statement"],
                "response": r["patch"],
                "created_at": r["created_at"],
            }
        )
        for r in rows
    ]
    write_lines(DATA / "lanes/swebench-lite-gold/part-000.jsonl", out)
    write_tasks("swebench_lite", [r["instance_id"] for r in rows])


PLUS_INPUTS_KEPT = 20
"""MBPP+ `plus_input` kept per task (the full lists are 1.8 MB for 266 tasks)."""
TESTED_DS1000, TESTED_BIGCODEBENCH = 60, 40
"""Tasks of the DS-1000 and BigCodeBench lanes given tests: their runs take 0.7 and 2 s each
(library imports), so the rest stay `task_without_tests` to keep `make release` short."""


def write_tests(name: str, rows: list[dict[str, Any]], fields: tuple[str, ...]) -> None:
    """A lane's test records (`tasks/<name>.tests.jsonl`): the id and the harness's fields."""
    write_lines(
        DATA / "tasks" / f"{name}.tests.jsonl",
        [dump({f: r[f] for f in ("task_id", *fields) if f in r}) for r in rows],
    )


def task_tests(real: Path) -> None:
    """The test records the sample lanes name (`tests:` in their manifests)."""
    bench = real / "benchmarks"
    humaneval_rows = read_jsonl(bench / "humaneval/HumanEval.rows0-108.jsonl")
    write_tests("humaneval", humaneval_rows, ("prompt", "entry_point", "test"))
    mbpp_rows = read_jsonl(bench / "mbpp_plus/MbppPlus.rows0-265.jsonl")
    for row in mbpp_rows:
        row["plus_input"] = row["plus_input"][:PLUS_INPUTS_KEPT]
    fields = ("entry_point", "canonical_solution", "base_input", "plus_input", "atol", "assertion")
    write_tests("mbpp_plus", mbpp_rows, fields)
    ds_rows = read_jsonl(bench / "ds1000/ds1000.problems0-666.jsonl", TESTED_DS1000)
    for row in ds_rows:
        meta = row["metadata"]
        meta = ast.literal_eval(meta) if isinstance(meta, str) else meta
        row["task_id"] = f"DS1000/{meta['problem_id']}"
    write_tests("ds1000", ds_rows, ("code_context",))
    bcb_rows = read_jsonl(bench / "bigcodebench/BigCodeBench.rows0-759.jsonl", TESTED_BIGCODEBENCH)
    write_tests("bigcodebench", bcb_rows, ("code_prompt", "entry_point", "test", "libs"))
    swe_rows = read_jsonl(bench / "swebench_lite/swe-bench-lite-test.rows0-199.jsonl", 60)
    for row in swe_rows:
        row["task_id"] = row["instance_id"]
    fields = ("repo", "base_commit", "FAIL_TO_PASS", "version")
    write_tests("swebench_lite", swe_rows, fields)


def cassettes(real: Path, model_prefix: str = "gpt-5-mini") -> None:
    """Real gpt-5-mini responses from pydantic-ai cassettes, plus two bad lines."""
    path = real / "traces/openai_chat_api/pydantic-ai-cassettes-openai_chat_api.jsonl"
    out, ids = [], []
    for r in read_jsonl(path):
        response = r.get("response") or {}
        if not str(response.get("model", "")).startswith(model_prefix):
            continue
        message = (response.get("choices") or [{}])[0].get("message") or {}
        if not isinstance(message.get("content"), str) or not message["content"].strip():
            continue
        request = r["request"]
        cassette = r["source_cassette"].removeprefix("tests/models/cassettes/")
        task_id = f"{cassette}#{r['interaction_index']}"
        ids.append(task_id)
        params = {
            k: request[k]
            for k in ("temperature", "top_p", "max_tokens", "seed", "reasoning_effort")
            if k in request
        }
        created = datetime.fromtimestamp(response["created"], tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(
            dump(
                {
                    "task_id": task_id,
                    "prompt": json.dumps(
                        request["messages"], ensure_ascii=False, separators=(",", ":")
                    ),
                    "response": message["content"],
                    "teacher_model": "gpt-5-mini",
                    "generator_version": response["model"],
                    "generation_timestamp": created,
                    "sampling_params": params,
                    "request_id": response.get("id"),
                }
            )
        )
    write_lines(DATA / "lanes/cassettes-gpt-5-mini/part-000.jsonl", out)
    write_tasks("pydantic_ai_cassettes", ids)
    good = json.loads(out[0])
    bad = [
        dump({k: v for k, v in good.items() if k != "teacher_model"}),  # synthetic, no generator
        dump({**good, "generation_timestamp": "2026-02-17 03:34:22"}),  # no time zone
    ]
    write_lines(DATA / "lanes/cassettes-gpt-5-mini/part-001-with-bad-lines.jsonl", bad)


def kept_lines(source: Path, keep: Callable[[int, str], bool]) -> list[bytes]:
    """The source's lines (bytes unchanged) where `keep(index, line)` is true."""
    lines = source.read_bytes().rstrip(b"\n").split(b"\n")
    return [line for i, line in enumerate(lines) if keep(i, line.decode("utf-8"))]


def copy_rows(source: Path, target: Path, keep: Callable[[int, str], bool]) -> None:
    """Copy the source's lines verbatim where `keep(index, line)` is true.

    The target's name says how it is stored: `.jsonl` as is, `.jsonl.gz` gzip (no name, time 0),
    `.jsonl.zst` zstd, `.json` one JSON array whose elements are the lines, one per line.
    """
    kept = kept_lines(source, keep)
    data = b"".join(line + b"\n" for line in kept)
    if target.name.endswith(".json"):
        data = b"[\n" + b",\n".join(kept) + b"\n]\n"
    elif target.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    elif target.name.endswith(".zst"):
        sink = pa.BufferOutputStream()
        with pa.CompressedOutputStream(sink, "zstd") as stream:
            stream.write(data)
        data = sink.getvalue().to_pybytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def imports(real: Path) -> None:
    """Trace datasets, copied line for line (original bytes), trimmed to keep data/ small."""
    traces = real / "traces"
    copy_rows(
        traces / "sharegpt_hermes/hermeswith-trajectory_samples.rows0-7.jsonl",
        DATA / "traces/hermes-agent-trajectories/part-000.jsonl",
        lambda i, line: True,
    )
    copy_rows(
        traces / "openai_chat_api/pydantic-ai-cassettes-openai_chat_api.jsonl",
        DATA / "traces/pydantic-ai-openai-chat/part-000.jsonl",
        lambda i, line: len(line) < 20_000,
    )
    copy_rows(
        traces / "anthropic_messages/pydantic-ai-cassettes-anthropic_messages.jsonl",
        DATA / "traces/pydantic-ai-anthropic/part-000.jsonl",
        lambda i, line: len(line) < 8_000,
    )
    tau = traces / "openai_tool_calls/tau-bench-gpt-4o-airline.rows0-139.jsonl"
    copy_rows(tau, DATA / "traces/tau-bench-gpt-4o-airline/part-000.jsonl", lambda i, _: i < 12)
    copy_rows(tau, DATA / "traces/tau-bench-gpt-4o-airline/part-001.jsonl.gz", lambda i, _: i >= 12)
    copy_rows(  # LLaMA-Factory ships it as a JSON array: so does the sample
        traces / "sharegpt_function_call/llamafactory-glaive_toolcall_en_demo.jsonl",
        DATA / "traces/glaive-toolcall-demo/glaive_toolcall_en_demo.rows0-19.json",
        lambda i, line: i < 20,
    )
    copy_rows(
        traces / "reasoning_content_blocks/llamafactory-reason_tool_use_demo_50.jsonl",
        DATA / "traces/llamafactory-reason-tool-use/part-000.jsonl",
        lambda i, line: True,
    )
    copy_rows(
        traces / "hermes_xml_rollouts/atropos-rubiks_process_results_32.jsonl",
        DATA / "traces/atropos-rubiks/part-000.jsonl.zst",
        lambda i, line: True,
    )
    copy_rows(
        traces / "agent_trajectories/swe-agent-demonstrations.jsonl",
        DATA / "traces/swe-agent-demonstrations/part-000.jsonl.zst",
        lambda i, line: True,
    )
    copy_rows(
        traces / "sharegpt_plain/fastchat-dummy_conversation.rows0-332.jsonl",
        DATA / "traces/fastchat-identity/part-000.jsonl",
        lambda i, line: i < 60,
    )


def main() -> None:
    """Rebuild every sample lane."""
    real = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/data/real")
    humaneval(real)
    mbpp_plus(real)
    ds1000(real)
    bigcodebench(real)
    swebench(real)
    cassettes(real)
    imports(real)
    task_tests(real)


if __name__ == "__main__":
    main()
