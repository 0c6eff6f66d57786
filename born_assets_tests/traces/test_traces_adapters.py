"""Trace adapters turn each public format into the same neutral turns, or refuse the record.

Every imported row is released only if its conversation was read correctly: which text the user
sent, which text the model wrote, which parts were hidden reasoning and which were tool calls.
A wrong role or a dropped block silently corrupts training data, so the adapters are tested on
real records (trimmed fixtures, see `fixtures/traces/README.md`) with exact expected turns, and
every malformed record must raise `FormatMismatch` naming the exact offending field so that its
quarantine reason says where to look.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from born_assets.traces.atropos import RolloutGroupOptions, Selection
from born_assets.traces.codec import Trace, decode_trace, encode_trace
from born_assets.traces.conversation import (
    Block,
    BlockKind,
    Outcome,
    Role,
    TraceExample,
    Turn,
    render_prompt,
)
from born_assets.traces.fields import AdapterSpec, FormatMismatch
from born_assets.traces.registry import FORMATS, get_adapter
from born_assets.traces.tools import ToolSpec
from born_assets_tests.conftest import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "traces"

TEXT, THINKING, REDACTED = BlockKind.TEXT, BlockKind.THINKING, BlockKind.REDACTED_THINKING
CALL, RESULT = BlockKind.TOOL_CALL, BlockKind.TOOL_RESULT
SYSTEM, USER, ASSISTANT, TOOL = Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL


def records(name: str) -> list[dict[str, Any]]:
    lines = (FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def turn(role: Role, *blocks: Block) -> Turn:
    return Turn(role, blocks)


def text(value: str) -> Block:
    return Block(TEXT, value)


def shape(turns: tuple[Turn, ...]) -> list[tuple[str, list[tuple[str, str | None, str | None]]]]:
    """Roles and (kind, name, call_id) of every block: the structure without the long texts."""
    return [(t.role.value, [(b.kind.value, b.name, b.call_id) for b in t.blocks]) for t in turns]


# --- ShareGPT ---------------------------------------------------------------------------------


def test_sharegpt_plain_splits_at_first_assistant_turn() -> None:
    record = records("sharegpt_plain")[0]
    example = get_adapter("sharegpt")(record, AdapterSpec(id_field="id"))
    assert example == TraceExample(
        prompt_turns=(turn(USER, text("Who are you?")),),
        response_turns=(
            turn(
                ASSISTANT,
                text(
                    "I am Vicuna, a language model trained by researchers from Large Model "
                    "Systems Organization (LMSYS)."
                ),
            ),
            turn(USER, text("Have a nice day!")),
            turn(ASSISTANT, text("You too!")),
        ),
        source_row_id="identity_0",
        model=None,
        timestamp=None,
    )


def test_sharegpt_hermes_keeps_inline_think_and_reads_model_and_time() -> None:
    record = records("sharegpt_hermes")[0]
    example = get_adapter("sharegpt")(record, AdapterSpec())
    conversations = record["conversations"]
    assert example.prompt_turns == (
        turn(SYSTEM, text(conversations[0]["value"])),
        turn(USER, text("Say 'Hello from HermesWith!' and nothing else.")),
    )
    assert example.response_turns == (turn(ASSISTANT, text(conversations[2]["value"])),)
    assert conversations[2]["value"].startswith("<think>\n")
    assert (example.model, example.timestamp) == ("k2p5", "2026-04-13T21:38:56.194348")


def test_sharegpt_function_call_and_observation_become_tool_turns() -> None:
    record = records("sharegpt_function_call")[0]
    example = get_adapter("sharegpt")(record, AdapterSpec())
    assert [tool.name for tool in example.tools] == ["search_recipes"]
    assert example.tools[0].parameters is not None
    assert shape(example.response_turns) == [
        ("assistant", [("text", None, None)]),
        ("user", [("text", None, None)]),
        ("assistant", [("tool_call", "search_recipes", None)]),
        ("tool", [("tool_result", None, None)]),
        ("assistant", [("text", None, None)]),
        ("user", [("text", None, None)]),
        ("assistant", [("text", None, None)]),
    ]
    call = example.response_turns[2].blocks[0]
    assert call.text == '{"ingredients": ["chicken", "bell peppers", "rice"]}'
    assert example.response_turns[3].blocks[0].text == record["conversations"][4]["value"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            '<think>plan</think>\n<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call>',
            (text("<think>plan</think>\n"), Block(CALL, '{"x": 1}', name="f")),
            id="think-then-call",
        ),
        pytest.param(
            'Done.\n<tool_call>{"name": "f", "arguments": "{}"}</tool_call> after',
            (text("Done.\n"), Block(CALL, "{}", name="f"), text(" after")),
            id="string-arguments-kept-verbatim",
        ),
        pytest.param(
            '<think>maybe <tool_call>{"name": "f", "arguments": {}}</tool_call></think>ok',
            (text('<think>maybe <tool_call>{"name": "f", "arguments": {}}</tool_call></think>ok'),),
            id="call-inside-thinking-is-thinking",
        ),
        pytest.param(
            '```\n<tool_call>{"name": "f", "arguments": {}}</tool_call>\n```',
            (text('```\n<tool_call>{"name": "f", "arguments": {}}</tool_call>\n```'),),
            id="call-inside-code-is-code",
        ),
        pytest.param(
            "<tool_call>not json</tool_call>",
            (text("<tool_call>not json</tool_call>"),),
            id="malformed-call-stays-text",
        ),
        pytest.param("", (text(""),), id="empty"),
    ],
)
def test_sharegpt_hermes_tool_call_tags(value: str, expected: tuple[Block, ...]) -> None:
    record = {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": value}]}
    example = get_adapter("sharegpt")(record, AdapterSpec())
    assert example.response_turns == (Turn(ASSISTANT, expected),)


# --- OpenAI chat --------------------------------------------------------------------------------

OPENAI_CASES = [
    # (fixture row, response blocks (kind, name, call_id), prompt roles)
    pytest.param(0, [("thinking", None, None), ("text", None, None)], ["user"], id="reasoning"),
    pytest.param(
        1,
        [("thinking", None, None), ("text", None, None)],
        ["user", "assistant", "user"],
        id="replayed-think-in-request",
    ),
    pytest.param(
        2,
        [("thinking", None, None), ("tool_call", "get_weather", "chatcmpl-tool-bbb91941bf76335c")],
        ["user"],
        id="tool-call",
    ),
    pytest.param(4, [("text", None, None)], ["system", "user"], id="r1-think-in-content"),
    pytest.param(
        5,
        [("thinking", None, None), ("text", None, None)],
        ["user", "assistant", "user"],
        id="mistral-thinking-part",
    ),
    pytest.param(
        6,
        [("thinking", None, None), ("redacted_thinking", None, None), ("text", None, None)],
        ["user"],
        id="reasoning-details",
    ),
    pytest.param(
        7,
        [
            ("text", None, None),
            ("tool_call", "find_education_content", "toolu_vrtx_015QAXScZzRDPttiPoc34AdD"),
        ],
        ["user"],
        id="tool-call-without-arguments",
    ),
]


@pytest.mark.parametrize(("row", "response_shape", "prompt_roles"), OPENAI_CASES)
def test_openai_chat_exchange_on_real_records(
    row: int, response_shape: list[tuple[str, str | None, str | None]], prompt_roles: list[str]
) -> None:
    record = records("openai_chat_api")[row]
    example = get_adapter("openai_chat_exchange")(record, AdapterSpec(id_field="response.id"))
    assert shape(example.response_turns) == [("assistant", response_shape)]
    assert [t.role.value for t in example.prompt_turns] == prompt_roles
    assert example.source_row_id == record["response"]["id"]
    assert example.model == record["response"]["model"]


def test_openai_reasoning_and_content_texts_are_exact() -> None:
    source = records("openai_chat_api")
    first, replayed, r1, mistral, details, no_args = (
        get_adapter("openai_chat_exchange")(source[row], AdapterSpec())
        for row in (0, 1, 4, 5, 6, 7)
    )
    message = source[0]["response"]["choices"][0]["message"]
    assert first.response_turns[0].blocks == (Block(THINKING, message["reasoning"]), text("SAFE"))
    assert first.timestamp == "2026-07-17T00:26:31+00:00"
    assert replayed.prompt_turns[1] == turn(
        ASSISTANT, text(source[1]["request"]["messages"][1]["content"])
    )
    assert r1.response_turns[0].blocks == (
        text(source[4]["response"]["choices"][0]["message"]["content"]),
    )
    mistral_parts = source[5]["response"]["choices"][0]["message"]["content"]
    assert mistral.response_turns[0].blocks[1] == text(mistral_parts[1]["text"])
    assert mistral.response_turns[0].blocks[0].text == "\n".join(
        part["text"] for part in mistral_parts[0]["thinking"]
    )
    assert details.response_turns[0].blocks[1] == Block(REDACTED, "")
    assert no_args.response_turns[0].blocks[1].text == ""


def test_openai_chat_reads_tau_bench_traj() -> None:
    record = records("openai_tool_calls")[0]
    spec = AdapterSpec(id_field="task_id", messages_field="traj")
    example = get_adapter("openai_chat")(record, spec)
    assert example.source_row_id == "0"
    assert [t.role for t in example.prompt_turns] == [SYSTEM, USER]
    assert shape(example.response_turns)[4:] == [
        ("assistant", [("tool_call", "get_user_details", "call_oIHazX6yQrB8hUwl4cRilFKj")]),
        ("tool", [("tool_result", "get_user_details", "call_oIHazX6yQrB8hUwl4cRilFKj")]),
        ("assistant", [("tool_call", "search_direct_flight", "call_HGn16KZh9oNCruxsMJ4gYXan")]),
        ("tool", [("tool_result", "search_direct_flight", "call_HGn16KZh9oNCruxsMJ4gYXan")]),
        ("assistant", [("text", None, None)]),
    ]
    assert example.response_turns[4].blocks[0].text == '{"user_id":"mia_li_3668"}'


# --- Anthropic ----------------------------------------------------------------------------------


def test_anthropic_thinking_server_tool_and_result() -> None:
    record = records("anthropic_messages")[0]
    example = get_adapter("anthropic_messages")(record, AdapterSpec(id_field="response.id"))
    call_id = "srvtoolu_01HjzmxWnLPCkNoLmrowWNBc"
    assert example.prompt_turns == (turn(USER, text("What's 2+2? Consult your advisor first.")),)
    assert example.response_turns == (
        turn(
            ASSISTANT,
            Block(THINKING, ""),
            text(record["response"]["content"][1]["text"]),
            Block(CALL, "{}", name="advisor", call_id=call_id),
            Block(
                RESULT,
                '{"stop_reason": "end_turn", "text": "4.\\n\\n(You\'re right--it\'s trivial. '
                'Ship it.)", "type": "advisor_result"}',
                call_id=call_id,
            ),
            text("2 + 2 = 4"),
        ),
    )
    assert (example.model, example.timestamp) == ("claude-sonnet-5", None)


def test_anthropic_tool_results_in_user_messages_become_tool_turns() -> None:
    example = get_adapter("anthropic_messages")(records("anthropic_messages")[1], AdapterSpec())
    assert [t.role for t in example.prompt_turns] == [
        SYSTEM,
        USER,
        ASSISTANT,
        TOOL,
        ASSISTANT,
        TOOL,
    ]
    assert example.prompt_turns[3] == turn(
        TOOL, Block(RESULT, "{}", call_id="toolu_01JzwQ18FJQr29z9vLFKFBao")
    )


def test_anthropic_redacted_thinking_keeps_no_opaque_data() -> None:
    example = get_adapter("anthropic_messages")(records("anthropic_messages")[2], AdapterSpec())
    assert example.response_turns[0].blocks[0] == Block(REDACTED, "")


def test_anthropic_web_search_result_drops_encrypted_content() -> None:
    example = get_adapter("anthropic_messages")(records("anthropic_messages")[3], AdapterSpec())
    result = example.response_turns[0].blocks[2]
    assert result.kind is RESULT
    assert result.text.splitlines()[0] == (
        '{"type": "web_search_result", "title": "San Francisco, CA Weather Forecast | AccuWeather",'
        ' "url": "https://www.accuweather.com/en/us/san-francisco/94103/weather-forecast/347629",'
        ' "page_age": "6 days ago"}'
    )
    assert "encrypted_content" not in result.text


# --- prompt/response pairs ----------------------------------------------------------------------


def test_prompt_response_pairs_use_named_fields() -> None:
    record = {"meta": {"id": 7}, "instruction": "Add 1 and 2.", "output": "3", "model": "m"}
    spec = AdapterSpec(
        id_field="meta.id", prompt_field="instruction", response_field="output", model_field="model"
    )
    assert get_adapter("prompt_response")(record, spec) == TraceExample(
        prompt_turns=(turn(USER, text("Add 1 and 2.")),),
        response_turns=(turn(ASSISTANT, text("3")),),
        source_row_id="7",
        model="m",
        timestamp=None,
    )


def test_prompt_response_on_real_mbpp_rows() -> None:
    record = records("prompt_response_mbpp")[1]
    spec = AdapterSpec(id_field="task_id", prompt_field="text", response_field="code")
    assert get_adapter("prompt_response")(record, spec) == TraceExample(
        prompt_turns=(
            turn(
                USER,
                text(
                    "Write a function to find the similar elements from the given two tuple lists."
                ),
            ),
        ),
        response_turns=(
            turn(
                ASSISTANT,
                text(
                    "def similar_elements(test_tup1, test_tup2):\r\n"
                    "  res = tuple(set(test_tup1) & set(test_tup2))\r\n"
                    "  return (res) "
                ),
            ),
        ),
        source_row_id="2",
        model=None,
        timestamp=None,
    )


def test_prompt_response_needs_both_fields_in_the_spec() -> None:
    with pytest.raises(ValueError, match="prompt_field and response_field"):
        get_adapter("prompt_response")({"a": "b"}, AdapterSpec(prompt_field="a"))


# --- LLaMA-Factory, Atropos, SWE-agent ----------------------------------------------------------


def test_llamafactory_blocks() -> None:
    example = get_adapter("llamafactory_blocks")(records("llamafactory_blocks")[0], AdapterSpec())
    assert shape(example.response_turns)[:3] == [
        ("assistant", [("thinking", None, None), ("tool_call", "get_movie_details", None)]),
        ("tool", [("tool_result", None, None)]),
        ("assistant", [("thinking", None, None), ("text", None, None)]),
    ]
    assert example.response_turns[0].blocks[1].text == '{"title": "Inception"}'


def test_atropos_scored_group_becomes_one_example_of_its_selected_rollout() -> None:
    group = records("atropos_rollouts")[0]
    spec = AdapterSpec(options=RolloutGroupOptions(select=Selection.BEST_SCORE))
    example = get_adapter("scored_rollout_group")(group, spec)
    assert example.outcome == (
        Outcome("score", "0.6455555555555557"),
        Outcome("rollout", "0 of 1 (best_score)"),
        Outcome("group_scores", "0.6455555555555557"),
    )
    assert [t.role for t in example.prompt_turns] == [SYSTEM, USER]
    assert shape(example.response_turns) == [
        ("assistant", [("text", None, None), ("tool_call", "apply_move", None)]),
        ("tool", [("tool_result", None, None)]),
    ]
    assert example.response_turns[0].blocks[0].text.startswith("<think>\n")
    assert example.response_turns[0].blocks[1].text == (
        '{"move": "U R U\' R\' U\' F\' U F", "strategy": "Layer-by-Layer"}'
    )


def test_swe_agent_observations_are_tool_results() -> None:
    plain, function_calling = (
        get_adapter("swe_agent_trajectory")(r, AdapterSpec(id_field="source_path"))
        for r in records("swe_agent_trajectories")
    )
    assert plain.source_row_id == "trajectories/demonstrations/ctf/crypto/BabyEncryption.traj"
    # A text-mode observation is what the model saw as a user message: a user turn whose
    # block is a tool result (the output of the command the message before it ran).
    assert shape(plain.response_turns) == [
        ("assistant", [("text", None, None)]),
        ("user", [("tool_result", None, None)]),
        ("assistant", [("text", None, None)]),
    ]
    assert shape(function_calling.response_turns) == [
        (
            "assistant",
            [("text", None, None), ("tool_call", "find_file", "call_PbWErNIge3YTrli3fiVvmIid")],
        ),
        ("tool", [("tool_result", None, "call_PbWErNIge3YTrli3fiVvmIid")]),
        (
            "assistant",
            [("text", None, None), ("tool_call", "open", "call_upNLxh7rBcDH9w5XiNdoAS0I")],
        ),
    ]


# --- mismatches ---------------------------------------------------------------------------------


def conversation(*entries: tuple[str, Any]) -> dict[str, Any]:
    return {"conversations": [{"from": speaker, "value": value} for speaker, value in entries]}


MISMATCHES = [
    pytest.param("sharegpt", {"id": 1}, "conversations", "missing", id="sharegpt-missing"),
    pytest.param(
        "sharegpt",
        {"conversations": "hi"},
        "conversations",
        "expected a list",
        id="sharegpt-not-list",
    ),
    pytest.param(
        "sharegpt",
        conversation(("human", "hi"), ("gpt", "x"), ("bot", "y")),
        "conversations[2].from",
        "unknown speaker 'bot'",
        id="sharegpt-unknown-speaker",
    ),
    pytest.param(
        "sharegpt",
        {"conversations": [{"from": "human", "value": "hi"}, {"value": "x"}]},
        "conversations[1].from",
        "missing",
        id="sharegpt-missing-from",
    ),
    pytest.param(
        "sharegpt",
        conversation(("human", None), ("gpt", "x")),
        "conversations[0].value",
        "expected a string, got null",
        id="sharegpt-null-value",
    ),
    pytest.param(
        "sharegpt",
        conversation(("human", "hi"), ("human", "again")),
        "conversations",
        "no assistant turn",
        id="sharegpt-no-assistant",
    ),
    pytest.param(
        "sharegpt",
        conversation(("human", "hi"), ("function_call", "{oops")),
        "conversations[1].value",
        "function_call value is not JSON",
        id="sharegpt-bad-function-call",
    ),
    pytest.param(
        "openai_chat",
        {"messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "x"}]},
        "messages[1].role",
        "unknown role 'bot'",
        id="openai-unknown-role",
    ),
    pytest.param(
        "openai_chat",
        {
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "tool_calls": [{"type": "magic", "id": "c"}]},
            ]
        },
        "messages[1].tool_calls[0].type",
        "unknown tool call type 'magic'",
        id="openai-unknown-tool-call",
    ),
    pytest.param(
        "openai_chat_exchange",
        records("openai_chat_api")[3],
        "request.messages[0].content[1].type",
        "media part 'image_url'",
        id="openai-media-part",
    ),
    pytest.param(
        "openai_chat_exchange",
        {"request": {"messages": []}, "response": {"choices": [{}, {}]}},
        "response.choices",
        "expected one choice, got 2",
        id="openai-two-choices",
    ),
    pytest.param(
        "anthropic_messages",
        records("anthropic_messages")[4],
        "response.content[0].type",
        "block type 'compaction'",
        id="anthropic-compaction",
    ),
    pytest.param(
        "anthropic_messages",
        records("anthropic_messages")[5],
        "request.messages[0].content[1].type",
        "block type 'image'",
        id="anthropic-image",
    ),
    pytest.param(
        "anthropic_messages",
        {"request": {"messages": []}, "response": {"type": "error", "error": {}}},
        "response.type",
        "expected 'message'",
        id="anthropic-error-response",
    ),
    pytest.param(
        "llamafactory_blocks",
        {"messages": [{"role": "assistant", "content": [{"type": "image", "value": "x"}]}]},
        "messages[0].content[0].type",
        "unknown block type 'image'",
        id="llamafactory-unknown-block",
    ),
    pytest.param(
        "swe_agent_trajectory",
        {"history": [{"role": "system", "content": "s"}, {"role": "narrator", "content": "x"}]},
        "history[1].role",
        "unknown role 'narrator'",
        id="swe-agent-unknown-role",
    ),
    pytest.param(
        "swe_agent_trajectory",
        {"trajectory": []},
        "history",
        "missing",
        id="swe-agent-no-history",
    ),
    pytest.param(
        "atropos_rollout",
        records("atropos_rollouts")[0],
        "messages[0]",
        "expected an object, got list",
        id="atropos-group-not-split",
    ),
]


@pytest.mark.parametrize(("fmt", "record", "field", "message"), MISMATCHES)
def test_mismatch_names_the_offending_field(
    fmt: str, record: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(FormatMismatch) as raised:
        get_adapter(fmt)(record, AdapterSpec())
    assert raised.value.field == field
    assert message in raised.value.message


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (AdapterSpec(prompt_field="q", response_field="a"), "a", "expected a string, got null"),
        (AdapterSpec(prompt_field="q", response_field="missing"), "missing", "missing"),
        (AdapterSpec(prompt_field="q", response_field="q", id_field="meta.id"), "meta", "missing"),
        (
            AdapterSpec(prompt_field="q", response_field="q", timestamp_field="t"),
            "t",
            "expected an ISO string or Unix seconds, got list",
        ),
    ],
)
def test_prompt_response_mismatches(spec: AdapterSpec, field: str, message: str) -> None:
    with pytest.raises(FormatMismatch) as raised:
        get_adapter("prompt_response")({"q": "question", "a": None, "t": []}, spec)
    assert (raised.value.field, raised.value.message) == (field, message)
    assert str(raised.value) == f"{field}: {message}"


# --- registry, rendering, encoding --------------------------------------------------------------


def test_registry_names_and_unknown_format() -> None:
    assert set(FORMATS) == {
        "sharegpt",
        "openai_chat",
        "openai_chat_exchange",
        "anthropic_messages",
        "prompt_response",
        "prompt_completion",
        "chat_template",
        "llamafactory_blocks",
        "atropos_rollout",
        "scored_rollout_group",
        "swe_agent_trajectory",
    }
    with pytest.raises(KeyError, match="unknown trace format 'alpaca'; known formats: anthropic"):
        get_adapter("alpaca")


def test_render_prompt_layout() -> None:
    turns = (
        turn(SYSTEM, text("Be brief.")),
        turn(USER, text("Weather?")),
        turn(
            ASSISTANT,
            Block(THINKING, "call the tool"),
            Block(CALL, '{"city": "Paris"}', name="get_weather", call_id="c1"),
        ),
        turn(TOOL, Block(RESULT, "sunny", call_id="c1")),
    )
    assert render_prompt(turns) == (
        "### system\nBe brief.\n\n"
        "### user\nWeather?\n\n"
        "### assistant\n<think>\ncall the tool\n</think>\n"
        '<tool_call name="get_weather" id="c1">\n{"city": "Paris"}\n</tool_call>\n\n'
        '### tool\n<tool_result id="c1">\nsunny\n</tool_result>'
    )


def test_encode_trace_is_canonical_and_round_trips() -> None:
    trace = Trace(
        prompt_turns=(turn(USER, text("héllo ✓")),),
        response_turns=(
            turn(ASSISTANT, Block(THINKING, ""), Block(CALL, "{}", name="f", call_id="1")),
        ),
        tools=(ToolSpec("f", None, '{"type": "object"}'),),
        outcome=(Outcome("reward", "1.0"),),
    )
    encoded = encode_trace(trace)
    assert encoded == (
        '{"outcome":[{"name":"reward","value":"1.0"}],'
        '"prompt":[{"blocks":[{"kind":"text","text":"héllo ✓"}],"role":"user"}],'
        '"response":[{"blocks":[{"kind":"thinking","text":""},'
        '{"call_id":"1","kind":"tool_call","name":"f","text":"{}"}],"role":"assistant"}],'
        '"tools":[{"name":"f","parameters":"{\\"type\\": \\"object\\"}"}]}'
    )
    assert decode_trace(encoded) == trace


@pytest.mark.parametrize("name", sorted(p.stem for p in FIXTURES.glob("*.jsonl")))
def test_every_fixture_record_round_trips(name: str) -> None:
    fmt = {
        "sharegpt_plain": "sharegpt",
        "sharegpt_hermes": "sharegpt",
        "sharegpt_function_call": "sharegpt",
        "openai_chat_api": "openai_chat_exchange",
        "openai_tool_calls": "openai_chat",
        "anthropic_messages": "anthropic_messages",
        "llamafactory_blocks": "llamafactory_blocks",
        "atropos_rollouts": "scored_rollout_group",
        "swe_agent_trajectories": "swe_agent_trajectory",
        "prompt_response_mbpp": "prompt_response",
    }[name]
    spec = AdapterSpec(
        messages_field="traj" if name == "openai_tool_calls" else None,
        prompt_field="text",
        response_field="code",
        options=RolloutGroupOptions(select=Selection.FIRST) if name == "atropos_rollouts" else None,
    )
    for record in records(name):
        try:
            example = get_adapter(fmt)(record, spec)
        except FormatMismatch:
            continue
        decoded = decode_trace(encode_trace(example))
        assert decoded == Trace(
            example.prompt_turns, example.response_turns, example.tools, example.outcome
        )


def _trace_json(prompt: str = "[]", tools: str = "[]") -> str:
    return f'{{"prompt": {prompt}, "response": [], "tools": {tools}, "outcome": []}}'


@pytest.mark.parametrize(
    ("encoded", "field"),
    [
        ("{", "trace"),
        ("[]", "trace"),
        ('{"prompt": [], "response": []}', "trace.outcome"),
        (_trace_json('[{"role": "robot", "blocks": []}]'), "prompt[0].role"),
        (_trace_json('[{"role": "user"}]'), "prompt[0].blocks"),
        (
            _trace_json('[{"role": "user", "blocks": [{"kind": "text"}]}]'),
            "prompt[0].blocks[0].text",
        ),
        (
            _trace_json('[{"role": "user", "blocks": [{"kind": "text", "text": "", "x": 1}]}]'),
            "prompt[0].blocks[0].x",
        ),
        (
            _trace_json('[{"role": "user", "blocks": [{"kind": "image", "text": ""}]}]'),
            "prompt[0].blocks[0].kind",
        ),
        (_trace_json(tools='[{"description": "d"}]'), "tools[0].name"),
    ],
)
def test_decode_trace_rejects_anything_else(encoded: str, field: str) -> None:
    with pytest.raises(FormatMismatch) as raised:
        decode_trace(encoded)
    assert raised.value.field == field
