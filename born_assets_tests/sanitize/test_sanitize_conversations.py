"""A trace becomes faithful messages and a closure rendered by what the agent did.

The `messages` column is what a trainer learns from, so every observable turn must be there, in
order, with tool calls and results paired by id (ids made only where the source had none, and
recorded), and no hidden reasoning anywhere, including reasoning passed to a think-style tool.
The closure is rendered from the same turns by meaning: the plan is the prose before the first
action, edits are Code, commands with their (cut) output are Checks, the submission and the
recorded outcome are the Result. Getting these wrong teaches a student the wrong habit, so each
rule is pinned on real records (tau-bench, SWE-agent) and hand-written edge cases.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from born_assets.sanitize.closure import to_closure
from born_assets.sanitize.pipeline import SanitizedRow, Transform, sanitize_row
from born_assets.sanitize.stage import hidden_markers
from born_assets.schemas.conversation import MESSAGES
from born_assets.specs.closure_policy import ClosurePolicy
from born_assets.text.closure import ABSENT_MARKER, SECTION_CHECKS, SECTION_RESULT
from born_assets.traces.codec import Trace, encode_trace
from born_assets.traces.conversation import Block, BlockKind, Outcome, Role, Turn, render_prompt
from born_assets.traces.fields import AdapterSpec
from born_assets.traces.messages import link_tool_calls, message, to_messages
from born_assets.traces.registry import get_adapter
from born_assets.traces.tools import ToolSpec
from born_assets_tests.conftest import FIXTURES

TEXT, CALL, RESULT = BlockKind.TEXT, BlockKind.TOOL_CALL, BlockKind.TOOL_RESULT
POLICY = ClosurePolicy(edit_tools=("str_replace_editor", "edit"), submit_tools=("submit",))


def fixture(name: str, index: int) -> dict[str, Any]:
    lines = (FIXTURES / "traces" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads(lines[index])


def sanitized(trace: Trace, policy: ClosurePolicy = POLICY) -> SanitizedRow:
    row = sanitize_row(render_prompt(trace.prompt_turns), encode_trace(trace), "turns", policy)
    assert isinstance(row, SanitizedRow)
    return row


def call(name: str, arguments: str, call_id: str | None = None) -> Block:
    return Block(CALL, arguments, name=name, call_id=call_id)


def result(text: str, call_id: str | None = None) -> Block:
    return Block(RESULT, text, call_id=call_id)


USER_ASKS = (Turn(Role.USER, (Block(TEXT, "Fix the bug."),)),)


def test_tau_bench_run_keeps_every_turn_paired_and_records_its_reward() -> None:
    record = fixture("openai_tool_calls", 0)
    spec = AdapterSpec(messages_field="traj", id_field="task_id", reward_field="reward")
    example = get_adapter("openai_chat")(record, spec)
    row = sanitized(Trace(example.prompt_turns, example.response_turns, (), example.outcome))
    traj = record["traj"]
    assert [m["role"] for m in row.messages] == [m["role"] for m in traj]
    for ours, theirs in zip(row.messages, traj, strict=True):
        assert ours["content"] == theirs["content"]
        assert ours["tool_call_id"] == theirs.get("tool_call_id")
        calls = [
            (c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in ours["tool_calls"] or []
        ]
        assert calls == [
            (c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in theirs.get("tool_calls") or []
        ]
    assert row.response.endswith(
        f"{SECTION_RESULT}\n{traj[-1]['content']}\n\nOutcome recorded by the source:\n"
        f"- `reward`: {record['reward']}\n"
    )
    assert row.response.count("Ran `") == 2


def test_think_tool_calls_results_and_declaration_are_dropped_and_recorded() -> None:
    reasoning = '{"thought": "The user is gold, so two bags are free."}'
    trace = Trace(
        USER_ASKS,
        (
            Turn(Role.ASSISTANT, (call("think", reasoning, "c1"),)),
            Turn(Role.TOOL, (result("", "c1"),)),
            Turn(Role.ASSISTANT, (call("get_user", '{"id": "u1"}', "c2"),)),
            Turn(Role.TOOL, (result('{"tier": "gold"}', "c2"),)),
            Turn(Role.ASSISTANT, (Block(TEXT, "You have two free bags."),)),
        ),
        tools=(ToolSpec("think", "Use the tool to think."), ToolSpec("get_user")),
    )
    row = sanitized(trace)
    assert row.messages == [
        message("user", "Fix the bug."),
        message(
            "assistant",
            None,
            [
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "get_user", "arguments": '{"id": "u1"}'},
                }
            ],
        ),
        message("tool", '{"tier": "gold"}', tool_call_id="c2", name="get_user"),
        message("assistant", "You have two free bags."),
    ]
    assert [tool["function"]["name"] for tool in row.tools] == ["get_user"]
    assert (
        Transform(
            "drop_think_tool_calls",
            {"field": "response", "calls": 1, "chars": len(reasoning), "tool_declarations": 1},
        )
        in row.transforms
    )
    assert "thought" not in row.response


def test_calls_without_ids_are_linked_in_order_and_the_linking_is_recorded() -> None:
    """Hermes and Atropos rollouts carry no ids: the n-th call is `call_n`, results in order."""
    trace = Trace(
        USER_ASKS,
        (
            Turn(Role.ASSISTANT, (call("a", "{}"), call("b", "{}"))),  # parallel calls
            Turn(Role.TOOL, (result("A"),)),
            Turn(Role.TOOL, (result("B"),)),
            Turn(Role.ASSISTANT, (Block(TEXT, "Both done."),)),
        ),
    )
    row = sanitized(trace)
    assert [(m["role"], m["tool_call_id"], m["name"]) for m in row.messages[1:4]] == [
        ("assistant", None, None),
        ("tool", "call_1", "a"),
        ("tool", "call_2", "b"),
    ]
    assert [c["id"] for c in row.messages[1]["tool_calls"]] == ["call_1", "call_2"]
    assert row.transforms[0] == Transform(
        "link_tool_calls", {"call_ids": 2, "results": 2, "renamed": 0}
    )


def test_a_reused_call_id_is_renamed_with_the_result_that_answers_it() -> None:
    """tau-bench reuses ids within a run; each id must name one call in the messages."""
    turns, stats = link_tool_calls(
        (
            Turn(Role.ASSISTANT, (call("a", "{}", "x"),)),
            Turn(Role.TOOL, (result("1", "x"),)),
            Turn(Role.ASSISTANT, (call("b", "{}", "x"),)),
            Turn(Role.TOOL, (result("2", "x"),)),
        )
    )
    assert [(b.name, b.call_id) for t in turns for b in t.blocks] == [
        ("a", "x"),
        ("a", "x"),
        ("b", "x_2"),
        ("b", "x_2"),
    ]
    assert stats.ids_renamed == 1


def test_an_empty_call_id_is_made_and_its_result_still_answers_it() -> None:
    """pydantic-ai's OpenAI recordings hold calls with `"id": ""`; an id must name a call."""
    turns, stats = link_tool_calls(
        (
            Turn(Role.ASSISTANT, (call("now", "{}", ""),)),
            Turn(Role.TOOL, (result("12:00", ""),)),
        )
    )
    assert [(b.name, b.call_id) for t in turns for b in t.blocks] == [
        ("now", "call_1"),
        ("now", "call_1"),
    ]
    assert stats.call_ids == 1


def test_text_after_a_call_starts_a_new_message_so_order_is_kept() -> None:
    turns, _ = link_tool_calls(
        (
            Turn(
                Role.ASSISTANT, (Block(TEXT, "Let me look."), call("f", "{}"), Block(TEXT, "Then?"))
            ),
        )
    )
    assert [(m["content"], bool(m["tool_calls"])) for m in to_messages(turns)] == [
        ("Let me look.", True),
        ("Then?", False),
    ]


def test_closure_by_meaning_edit_run_submit_and_outcome() -> None:
    edit = json.dumps(
        {"command": "str_replace", "path": "a.py", "old_str": "x = 1", "new_str": "x = 2\ny = 3"}
    )
    turns, _ = link_tool_calls(
        (
            Turn(
                Role.ASSISTANT,
                (
                    Block(TEXT, "I will look at a.py first."),
                    call("str_replace_editor", '{"command": "view", "path": "a.py"}'),
                ),
            ),
            Turn(Role.TOOL, (result("x = 1"),)),
            Turn(Role.ASSISTANT, (Block(TEXT, "Now fix it."), call("str_replace_editor", edit))),
            Turn(Role.TOOL, (result("File a.py edited."),)),
            Turn(Role.ASSISTANT, (call("bash", '{"command": "pytest"}'),)),
            Turn(Role.TOOL, (result("o" * 30),)),
            Turn(Role.ASSISTANT, (call("submit", "{}"),)),
            Turn(Role.TOOL, (result("diff --git a/a.py b/a.py"),)),
            Turn(Role.ASSISTANT, (Block(TEXT, "Done."),)),
        )
    )
    policy = ClosurePolicy(
        max_output_chars=10, edit_tools=("str_replace_editor",), submit_tools=("submit",)
    )
    closure = to_closure(turns, (Outcome("exit_status", "submitted"),), policy)
    assert closure.text == (
        "## Plan\nI will look at a.py first.\n\n"
        "## Code\nNow fix it.\n\n"
        'Edited with `str_replace_editor`:\n```json\n{"command": "str_replace", "path": "a.py", '
        '"old_str": "x = 1"}\n```\n`new_str`:\n```\nx = 2\ny = 3\n```\n\n'
        f"{SECTION_CHECKS}\n"
        'Ran `str_replace_editor`:\n```json\n{"command": "view", "path": "a.py"}\n```\n'
        "Output:\n```\nx = 1\n```\n\n"
        'Ran `bash`:\n```json\n{"command": "pytest"}\n```\nOutput:\n```\nooooo\n'
        "[... 20 characters of output cut here (closure.max_output_chars) ...]\nooooo\n```\n\n"
        "## Result\nSubmitted with `submit`:\nOutput:\n```\n"
        "diff --git a/a.py b/a.py\n```\n\nDone.\n\n"
        "Outcome recorded by the source:\n- `exit_status`: submitted\n"
    )
    assert (closure.outputs_cut, closure.chars_cut) == (1, 20)


def test_arguments_that_are_not_strict_json_are_shown_as_written() -> None:
    """Arguments Python's `json` reads but no strict reader takes are fenced as written.

    Written back they would put NaN, a lone surrogate or a 5,000-level value into the closure.
    """
    written = ['{"city": "Par\\ud800is"}', "[" * 5000 + "]" * 5000, '{"n": NaN}']
    turns = tuple(
        turn
        for arguments in written
        for turn in (
            Turn(Role.ASSISTANT, (call("lookup", arguments),)),
            Turn(Role.TOOL, (result("ok"),)),
        )
    )
    closure = to_closure(link_tool_calls(turns)[0], (), POLICY)
    for arguments in written:
        assert f"Ran `lookup`:\n```\n{arguments}\n```\n" in closure.text
    assert pa.array([closure.text]).to_pylist() == [closure.text]  # Arrow can hold it


def test_swe_agent_text_mode_commands_are_run_with_their_observations() -> None:
    example = get_adapter("swe_agent_trajectory")(
        fixture("swe_agent_trajectories", 0), AdapterSpec()
    )
    row = sanitized(Trace(example.prompt_turns, example.response_turns))
    assert [m["role"] for m in row.messages] == ["system", "user", "assistant", "user", "assistant"]
    checks = row.response.split(SECTION_CHECKS)[1].split(SECTION_RESULT)[0]
    assert checks.startswith("\nRan `open`:\n```\nopen chall.py\n```\nOutput:\n```\n[File: ")
    assert "## Plan\nWe are given a python file called `chall.py`." in row.response


def test_a_chat_with_no_action_has_its_last_answer_as_result() -> None:
    trace = Trace(
        USER_ASKS,
        (
            Turn(Role.ASSISTANT, (Block(TEXT, "Which bug?"),)),
            Turn(Role.USER, (Block(TEXT, "The crash."),)),
            Turn(Role.ASSISTANT, (Block(TEXT, "Restart it."),)),
        ),
    )
    row = sanitized(trace)
    assert row.response == (
        f"## Plan\n{ABSENT_MARKER}\n\n## Code\n{ABSENT_MARKER}\n\n## Checks\n{ABSENT_MARKER}\n\n"
        "## Result\nRestart it.\n"
    )
    assert [m["content"] for m in row.messages] == [
        "Fix the bug.",
        "Which bug?",
        "The crash.",
        "Restart it.",
    ]


def test_markers_in_what_was_written_are_found_but_tool_calls_and_outputs_are_data() -> None:
    """The check searches what sanitization strips, and nothing it keeps.

    A tag in a tool's input or output is data (an agent writing a chat template, a page it read)
    and stays; so does the prompt, which renders the prompt side's tool results.
    """
    rows = [
        [message("assistant", "ok <think>x</think>")],
        [
            message(
                "assistant",
                None,
                [
                    {
                        "id": "1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a": "<think>"}'},
                    }
                ],
            )
        ],
        [message("tool", "<think> in a file listing", tool_call_id="1")],
        [message("user", "clean")],
    ]
    batch = pa.RecordBatch.from_pydict(
        {
            "example_id": ["a", "b", "c", "d"],
            "prompt": ["p", "p", "<tool_result>\n<thinking>data</thinking>\n</tool_result>", "p"],
            "response": ["r"] * 4,
            "messages": pa.array(rows, MESSAGES),
        }
    )
    assert [found["example_id"] for found in hidden_markers(batch)] == ["a"]
