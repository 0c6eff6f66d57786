"""Rows are judged by what they are, and a tool-use trace by its tool-use structure.

A chat or an agent trace has no code, so asking it for a Code section gated out every such
trace; the policy now sets required sections, lengths and severities per kind (code task, tool
use, chat). A tool-use trace is a training example only if its calls make sense: each names a
declared tool, its arguments are a JSON object that fits the tool's schema, every result answers
a call and no call is left hanging. Each failure is its own reason with the rule that decided,
so a maintainer can tell a broken export from a model that called a tool wrongly.
"""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any, ClassVar

import pytest
import yaml

from born_assets.curation.gates import evaluate_gates
from born_assets.schemas.reasons import GateReason
from born_assets.specs.policy import Policy
from born_assets.traces.messages import message
from born_assets_tests.conftest import SAMPLE_DATA

POLICY = Policy.load(SAMPLE_DATA / "policy.yaml")
PROMPT = "Book a flight from JFK to SEA on May 20."
SCHEMA = json.dumps(
    {"type": "object", "properties": {"date": {"type": "string"}}, "required": ["date"]}
)
TOOLS = [
    {"type": "function", "function": {"name": "search", "description": None, "parameters": SCHEMA}}
]


def closure(
    plan: str = "x", code: str = "_Not present in the source._", result: str = "Done."
) -> str:
    return f"## Plan\n{plan}\n\n## Code\n{code}\n\n## Checks\nRan it.\n\n## Result\n{result}\n"


def call(call_id: str, arguments: str, name: str = "search") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def judged(
    messages: list[dict[str, Any]] | None,
    tools: list[dict[str, Any]] | None = None,
    policy: Policy = POLICY,
    response: str | None = None,
    family: str = "tau_bench_airline",
) -> dict[str, Any]:
    row = {
        "example_id": "ex1",
        "benchmark_family": family,
        "prompt": PROMPT,
        "response": response or closure(),
        "messages": messages,
        "tools": tools,
    }
    return evaluate_gates([row], policy).to_pylist()[0]


def conversation(*middle: dict[str, Any]) -> list[dict[str, Any]]:
    return [message("user", PROMPT), *middle, message("assistant", "Done.")]


GOOD = conversation(
    message("assistant", None, [call("c1", '{"date": "2024-05-20"}')]),
    message("tool", "[]", tool_call_id="c1", name="search"),
)


def test_a_well_formed_tool_use_trace_passes() -> None:
    row = judged(GOOD, TOOLS)
    assert (row["row_kind"], row["is_tool_use_ok"], row["is_gated_out"]) == (
        "tool_use",
        True,
        False,
    )
    assert (row["tool_call_count"], row["tool_result_count"]) == (1, 1)


BROKEN = [
    pytest.param(
        conversation(
            message("assistant", None, [call("c1", '{"date": "x"}', name="book")]),
            message("tool", "ok", tool_call_id="c1"),
        ),
        GateReason.UNDECLARED_TOOL,
        "undeclared_tool_calls",
        id="undeclared-tool",
    ),
    pytest.param(
        conversation(
            message("assistant", None, [call("c1", '{"date": ')]),
            message("tool", "error", tool_call_id="c1"),
        ),
        GateReason.TOOL_ARGUMENTS_NOT_JSON,
        "tool_argument_json_errors",
        id="arguments-not-json",
    ),
    pytest.param(
        conversation(
            message("assistant", None, [call("c1", '["2024-05-20"]')]),
            message("tool", "error", tool_call_id="c1"),
        ),
        GateReason.TOOL_ARGUMENTS_NOT_JSON,
        "tool_argument_json_errors",
        id="arguments-not-an-object",
    ),
    pytest.param(
        conversation(
            message("assistant", None, [call("c1", '{"day": "2024-05-20"}')]),
            message("tool", "error", tool_call_id="c1"),
        ),
        GateReason.TOOL_ARGUMENTS_INVALID,
        "tool_argument_schema_errors",
        id="arguments-fail-the-schema",
    ),
    pytest.param(
        conversation(message("tool", "[]", tool_call_id="nobody")),
        GateReason.ORPHAN_TOOL_RESULT,
        "orphan_tool_results",
        id="orphan-result",
    ),
    pytest.param(
        conversation(message("assistant", None, [call("c1", '{"date": "x"}')])),
        GateReason.UNANSWERED_TOOL_CALL,
        "unanswered_tool_calls",
        id="unanswered-before-the-end",
    ),
]


@pytest.mark.parametrize(("messages", "reason", "measure"), BROKEN)
def test_each_broken_structure_is_its_own_reason(
    messages: list[dict[str, Any]], reason: GateReason, measure: str
) -> None:
    row = judged(messages, TOOLS)
    assert row[measure] == 1
    assert (row["is_gated_out"], row["gated_out_gate"], row["gated_out_reason"]) == (
        True,
        "tool_use",
        reason.value,
    )
    assert row["gated_out_threshold"].startswith("gates.tool_use: ")


def test_a_call_the_trace_ends_on_may_wait_for_its_result() -> None:
    """An exchange row ends on the model's call: it is waiting for the tool, not broken."""
    messages = [message("user", PROMPT), message("assistant", None, [call("c1", '{"date": "x"}')])]
    assert judged(messages, TOOLS)["unanswered_tool_calls"] == 0


def test_a_schema_that_is_not_json_schema_cannot_judge_arguments() -> None:
    loose = [
        {
            "type": "function",
            "function": {"name": "search", "description": None, "parameters": '{"type": "dict"}'},
        }
    ]
    messages = conversation(
        message("assistant", None, [call("c1", '{"anything": 1}')]),
        message("tool", "ok", tool_call_id="c1"),
    )
    assert judged(messages, loose)["tool_argument_schema_errors"] == 0


def declaring(schema: dict[str, Any]) -> list[dict[str, Any]]:
    function = {"name": "search", "description": None, "parameters": json.dumps(schema)}
    return [{"type": "function", "function": function}]


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers any GET with a schema every value fails, and records the path asked for."""

    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.asked.append(self.path)
        body = b'{"not": {}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_a_ref_is_never_fetched_and_one_that_leads_nowhere_cannot_judge() -> None:
    """A `$ref` to a URL is not fetched; one that leads nowhere or loops cannot judge.

    A build reaches no network for what its data names.
    """
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        remote = f"http://127.0.0.1:{server.server_port}/schema.json"
        looping = {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
        messages = conversation(
            message("assistant", None, [call("c1", '{"date": "x"}')]),
            message("tool", "ok", tool_call_id="c1"),
        )
        for schema in ({"$ref": remote}, {"$ref": "#/$defs/missing"}, looping):
            row = judged(messages, declaring(schema))
            assert (row["tool_argument_schema_errors"], row["is_gated_out"]) == (0, False)
    finally:
        server.shutdown()
        thread.join()
    assert _Recorder.asked == []
    inside = {
        "$defs": {"day": {"type": "integer"}},
        "properties": {"date": {"$ref": "#/$defs/day"}},
    }
    assert judged(messages, declaring(inside))["tool_argument_schema_errors"] == 1  # still judged


def patterned(pattern: str) -> list[dict[str, Any]]:
    return declaring(
        {"type": "object", "properties": {"date": {"type": "string", "pattern": pattern}}}
    )


def test_patterns_match_in_linear_time() -> None:
    """Python's `re` takes hours on `^(a+)+$` against 40 `a`s and a `b`; RE2 says no at once."""
    slow = conversation(
        message("assistant", None, [call("c1", json.dumps({"date": "a" * 40 + "b"}))]),
        message("tool", "ok", tool_call_id="c1"),
    )
    assert judged(slow, patterned("^(a+)+$"))["tool_argument_schema_errors"] == 1
    day = patterned(r"^\d{4}-\d{2}-\d{2}$")
    assert judged(GOOD, day)["tool_argument_schema_errors"] == 0  # "2024-05-20"
    assert judged(slow, day)["tool_argument_schema_errors"] == 1
    keyed = declaring({"type": "object", "patternProperties": {"^d": {"type": "integer"}}})
    assert judged(GOOD, keyed)["tool_argument_schema_errors"] == 1  # "date" is not an integer


@pytest.mark.parametrize(
    "schema",
    [
        {"properties": {"date": {"type": "string", "pattern": r"^(\d)\1$"}}},  # a backreference
        {"patternProperties": {"^(a+)+$": {}}, "additionalProperties": False},  # Python's re
    ],
    ids=["backreference", "pattern-properties-beside-additional"],
)
def test_a_schema_whose_regex_re2_cannot_run_cannot_judge(schema: dict[str, Any]) -> None:
    messages = conversation(
        message("assistant", None, [call("c1", json.dumps({"date": "a" * 40 + "b"}))]),
        message("tool", "ok", tool_call_id="c1"),
    )
    assert (
        judged(messages, declaring({"type": "object", **schema}))["tool_argument_schema_errors"]
        == 0
    )


@pytest.mark.parametrize(
    "arguments",
    ['{"date": NaN}', '{"date": Infinity}', '{"date": "\\ud800"}', "[" * 300 + "]" * 300],
    ids=["nan", "infinity", "lone-surrogate", "300-levels"],
)
def test_arguments_are_json_only_strictly(arguments: str) -> None:
    """What Python's `json` would accept but no JSON reader downstream can take is not JSON."""
    messages = conversation(
        message("assistant", None, [call("c1", arguments)]),
        message("tool", "ok", tool_call_id="c1"),
    )
    assert judged(messages, TOOLS)["tool_argument_json_errors"] == 1


def test_undeclared_calls_are_checked_only_where_tools_are_declared_unless_required() -> None:
    assert judged(GOOD, [])["undeclared_tool_calls"] == 0
    document = yaml.safe_load((SAMPLE_DATA / "policy.yaml").read_text())
    document["gates"]["tool_use"]["require_declared_tools"] = True
    strict = Policy.from_yaml(yaml.safe_dump(document))
    assert judged(GOOD, [], strict)["gated_out_reason"] == GateReason.UNDECLARED_TOOL.value


def test_kind_decides_the_required_sections() -> None:
    chat = judged([message("user", "Hi"), message("assistant", "Hello!")], family="chats")
    assert (chat["row_kind"], chat["is_gated_out"]) == ("chat", False)
    code = judged(None, family="mbpp_plus")
    assert (code["row_kind"], code["gated_out_reason"]) == ("code_task", "empty_section")
    assert code["gated_out_threshold"].startswith("gates.kinds.code_task.required_sections")
    empty_chat = judged(
        None, family="chats", response=closure(result="_Not present in the source._")
    )
    assert empty_chat["gated_out_reason"] == "empty_section"


def test_kind_overrides_severity_and_length() -> None:
    refusal = closure(result="I'm sorry, but I can't change a basic economy booking.")
    agent = judged(GOOD, TOOLS, response=refusal)
    assert (agent["is_gated_out"], agent["soft_failure_reasons"]) == (False, "refusal")
    chat = judged(
        [message("user", "Hi"), message("assistant", "x")], family="chats", response=refusal
    )
    assert chat["gated_out_reason"] == "refusal"
    long = closure(result="y" * 70000 + ".")
    assert judged(GOOD, TOOLS, response=long)["is_length_ok"] is True
    too_long = judged([message("user", "Hi")], family="chats", response=long)
    assert too_long["length_threshold"] == "gates.length.default.max_response_chars=60000"
