"""The trace shapes producers actually write, read as their producers document them.

TRL and RL frameworks store the prompt and the completion as two message lists; servers log
rendered chat-template strings (ChatML / Hermes tool tags, Llama 3 headers); Atropos writes a
scored group of rollouts per line; LLaMA-Factory's ShareGPT carries `system`, `tools`, parallel
`function_call`s and custom tags; OpenAI messages carry `arguments` as JSON strings and several
calls per message. Each is tested on real records where the shared data has them (rendered here
from real rows where it does not) and on hand-written edge cases and malformed variants, each of
which must name the field that does not fit.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from born_assets.traces.atropos import RolloutGroupOptions, Selection
from born_assets.traces.chat_template import ChatTemplateOptions, Template
from born_assets.traces.conversation import Block, BlockKind, Outcome, Role, Turn
from born_assets.traces.fields import AdapterSpec, FormatMismatch, model_name
from born_assets.traces.registry import get_adapter
from born_assets.traces.sharegpt import ShareGPTOptions, Speaker
from born_assets.traces.tools import ToolSpec, parse_tools, tools_in_text
from born_assets_tests.conftest import FIXTURES

TEXT, THINKING, CALL, RESULT = (
    BlockKind.TEXT,
    BlockKind.THINKING,
    BlockKind.TOOL_CALL,
    BlockKind.TOOL_RESULT,
)


def fixture(name: str, index: int = 0) -> dict[str, Any]:
    lines = (FIXTURES / "traces" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads(lines[index])


def shape(turns: tuple[Turn, ...]) -> list[tuple[str, list[tuple[str, str | None]]]]:
    return [(t.role.value, [(b.kind.value, b.name) for b in t.blocks]) for t in turns]


# --- prompt / completion ------------------------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object"}},
}


def test_prompt_completion_message_lists_with_parallel_calls_and_a_reward() -> None:
    record = {
        "prompt": [
            {"role": "system", "content": "Use tools."},
            {"role": "user", "content": "Weather?"},
        ],
        "completion": [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "b",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Rome"'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": "sunny"},
            {"role": "tool", "tool_call_id": "b", "content": "rain"},
            {"role": "assistant", "content": "Sunny in Paris, rain in Rome."},
        ],
        "tools": [WEATHER],
        "reward": 1.0,
    }
    example = get_adapter("prompt_completion")(record, AdapterSpec(reward_field="reward"))
    assert shape(example.prompt_turns) == [("system", [("text", None)]), ("user", [("text", None)])]
    assert shape(example.response_turns) == [
        ("assistant", [("tool_call", "get_weather"), ("tool_call", "get_weather")]),
        ("tool", [("tool_result", None)]),
        ("tool", [("tool_result", None)]),
        ("assistant", [("text", None)]),
    ]
    # Arguments are kept as the source wrote them, even the one that is not valid JSON.
    assert [b.text for b in example.response_turns[0].blocks] == [
        '{"city": "Paris"}',
        '{"city": "Rome"',
    ]
    assert example.tools == (ToolSpec("get_weather", None, '{"type": "object"}'),)
    assert example.outcome == (Outcome("reward", "1.0"),)


def test_prompt_completion_strings_are_one_turn_each() -> None:
    example = get_adapter("prompt_completion")({"prompt": "2+2=", "completion": "4"}, AdapterSpec())
    assert example.prompt_turns == (Turn(Role.USER, (Block(TEXT, "2+2="),)),)
    assert example.response_turns == (Turn(Role.ASSISTANT, (Block(TEXT, "4"),)),)


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        ({"prompt": []}, "completion", "missing"),
        (
            {"prompt": [], "completion": [{"role": "user", "content": "x"}]},
            "completion",
            "no assistant",
        ),
        (
            {"prompt": [{"role": "robot", "content": "x"}], "completion": "y"},
            "prompt[0].role",
            "unknown role",
        ),
        ({"prompt": "q", "completion": 3}, "completion", "expected a list"),
    ],
)
def test_prompt_completion_mismatches(record: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(FormatMismatch) as raised:
        get_adapter("prompt_completion")(record, AdapterSpec())
    assert raised.value.field == field and message in raised.value.message


# --- rendered chat templates ----------------------------------------------------------------------


def chatml_from_sharegpt(record: dict[str, Any]) -> str:
    """Render a real LLaMA-Factory glaive record the way a Hermes / Qwen template does."""
    tools = "\n".join(json.dumps(t) for t in json.loads(record["tools"]))
    parts = [f"<|im_start|>system\nYou may call functions.\n<tools>\n{tools}\n</tools><|im_end|>\n"]
    for turn in record["conversations"]:
        if turn["from"] == "human":
            parts.append(f"<|im_start|>user\n{turn['value']}<|im_end|>\n")
        elif turn["from"] == "gpt":
            parts.append(f"<|im_start|>assistant\n{turn['value']}<|im_end|>\n")
        elif turn["from"] == "function_call":
            parts.append(
                f"<|im_start|>assistant\n<tool_call>\n{turn['value']}\n</tool_call><|im_end|>\n"
            )
        else:
            parts.append(
                f"<|im_start|>tool\n<tool_response>\n{turn['value']}\n</tool_response><|im_end|>\n"
            )
    return "".join(parts)


CHATML = AdapterSpec(options=ChatTemplateOptions(template=Template.CHATML))
LLAMA3 = AdapterSpec(options=ChatTemplateOptions(template=Template.LLAMA3))


def test_chatml_hermes_string_reads_like_the_conversation_it_renders() -> None:
    record = fixture("sharegpt_function_call")
    rendered = get_adapter("chat_template")({"text": chatml_from_sharegpt(record)}, CHATML)
    direct = get_adapter("sharegpt")(record, AdapterSpec())
    assert shape(rendered.response_turns) == shape(direct.response_turns)
    call = rendered.response_turns[2].blocks[0]
    assert (call.name, json.loads(call.text)) == (
        "search_recipes",
        {"ingredients": ["chicken", "bell peppers", "rice"]},
    )
    assert [t.name for t in rendered.tools] == [t.name for t in direct.tools] == ["search_recipes"]


def test_chatml_qwen_tool_responses_in_a_user_turn_and_a_generation_prompt() -> None:
    text = (
        "<|im_start|>user\nTime?<|im_end|>\n"
        "<|im_start|>assistant\n<tool_call>\n"
        '{"name": "now", "arguments": {}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\n12:00\n</tool_response>\n"
        "<tool_response>\nUTC\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n<think>\nnoon\n</think>\n\nIt is noon.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    example = get_adapter("chat_template")({"text": text}, CHATML)
    assert shape(example.response_turns) == [
        ("assistant", [("tool_call", "now")]),
        ("tool", [("tool_result", None), ("tool_result", None)]),
        ("assistant", [("text", None)]),
    ]
    assert [b.text for b in example.response_turns[1].blocks] == ["12:00", "UTC"]
    assert example.response_turns[2].blocks[0].text.startswith("<think>")  # for the sanitizer


def test_prompt_and_completion_strings_are_joined() -> None:
    record = {
        "prompt": "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        "completion": "Hello!<|im_end|>",
    }
    spec = AdapterSpec(completion_field="completion", options=CHATML.options)
    example = get_adapter("chat_template")(record, spec)
    assert example.response_turns == (Turn(Role.ASSISTANT, (Block(TEXT, "Hello!"),)),)


def test_llama3_headers_json_tool_call_and_ipython_output() -> None:
    text = (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "Environment: ipython<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nWeather in Paris?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
        '{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>'
        '<|start_header_id|>ipython<|end_header_id|>\n\n{"temp": 21}<|eot_id|>'
        "<|start_header_id|>assistant<|end_header_id|>\n\nIt is 21 degrees."
    )
    example = get_adapter("chat_template")({"text": text}, LLAMA3)
    assert shape(example.response_turns) == [
        ("assistant", [("tool_call", "get_weather")]),
        ("tool", [("tool_result", None)]),
        ("assistant", [("text", None)]),
    ]
    assert example.response_turns[0].blocks[0].text == '{"city": "Paris"}'
    assert example.response_turns[2].blocks[0].text == "It is 21 degrees."


@pytest.mark.parametrize(
    ("text", "spec", "message"),
    [
        ("Hello<|im_start|>user\nx<|im_end|>", CHATML, "text before the first <|im_start|>"),
        ("<|im_start|>narrator\nx<|im_end|>", CHATML, "unknown role 'narrator'"),
        (
            "<|im_start|>user\nx<|im_start|>assistant\ny<|im_end|>",
            CHATML,
            "message 1 (user) has no <|im_end|>",
        ),
        ("<|im_start|>user\nx<|im_end|> stray", CHATML, "text after <|im_end|>"),
        ("plain text", CHATML, "text before the first"),
        ("<|im_start|>user\nx<|im_end|>", LLAMA3, "text before the first <|start_header_id|>"),
        (
            "<|start_header_id|>robot<|end_header_id|>\n\nx<|eot_id|>",
            LLAMA3,
            "unknown role 'robot'",
        ),
    ],
)
def test_a_string_that_does_not_fit_its_template_names_the_field(
    text: str, spec: AdapterSpec, message: str
) -> None:
    with pytest.raises(FormatMismatch) as raised:
        get_adapter("chat_template")({"text": text}, spec)
    assert raised.value.field == "text" and message in raised.value.message


# --- scored rollout groups ------------------------------------------------------------------------


def group(scores: list[Any]) -> dict[str, Any]:
    """A real Atropos rollout, repeated once per score."""
    real = fixture("atropos_rollouts")
    return {**real, "messages": [real["messages"][0]] * len(scores), "scores": scores}


@pytest.mark.parametrize(
    ("select", "scores", "chosen"),
    [
        (Selection.BEST_SCORE, [0.1, 0.9, 0.9], "1 of 3 (best_score)"),
        (Selection.FIRST, [0.1, 0.9], "0 of 2 (first)"),
    ],
)
def test_a_group_becomes_the_rollout_its_spec_selects(
    select: Selection, scores: list[float], chosen: str
) -> None:
    spec = AdapterSpec(options=RolloutGroupOptions(select=select))
    example = get_adapter("scored_rollout_group")(group(scores), spec)
    assert Outcome("rollout", chosen) in example.outcome


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        (group([0.1, 0.2]) | {"scores": [0.1]}, "scores", "1 scores for 2 rollouts"),
        (group([0.1]) | {"scores": ["high"]}, "scores[0]", "expected a number"),
        (group([0.1]) | {"scores": [True]}, "scores[0]", "expected a number"),
        ({"messages": [], "scores": []}, "messages", "no rollout"),
        ({"messages": [[]]}, "scores", "missing"),
    ],
)
def test_a_malformed_group_names_the_field(
    record: dict[str, Any], field: str, message: str
) -> None:
    spec = AdapterSpec(options=RolloutGroupOptions(select=Selection.BEST_SCORE))
    with pytest.raises(FormatMismatch) as raised:
        get_adapter("scored_rollout_group")(record, spec)
    assert raised.value.field == field and message in raised.value.message


# --- LLaMA-Factory ShareGPT, OpenAI messages ----------------------------------------------------


def test_llamafactory_sharegpt_system_tools_parallel_calls_and_thought() -> None:
    record = {
        "system": "You are a travel agent.",
        "tools": json.dumps(
            [{"name": "book", "description": "Book a seat.", "parameters": {"type": "object"}}]
        ),
        "conversations": [
            {"from": "human", "value": "Book two seats."},
            {
                "from": "function_call",
                "value": '<think>two calls</think>[{"name": "book", "arguments": {"seat": 1}}, '
                '{"name": "book", "arguments": "{\\"seat\\": 2}"}]',
            },
            {"from": "observation", "value": "booked 1"},
            {"from": "observation", "value": "booked 2"},
            {"from": "gpt", "value": "Both booked."},
        ],
    }
    example = get_adapter("sharegpt")(record, AdapterSpec(system_field="system"))
    assert example.prompt_turns[0] == Turn(Role.SYSTEM, (Block(TEXT, "You are a travel agent."),))
    assert shape(example.response_turns) == [
        ("assistant", [("thinking", None), ("tool_call", "book"), ("tool_call", "book")]),
        ("tool", [("tool_result", None)]),
        ("tool", [("tool_result", None)]),
        ("assistant", [("text", None)]),
    ]
    assert [b.text for b in example.response_turns[0].blocks[1:]] == ['{"seat": 1}', '{"seat": 2}']
    assert example.tools == (ToolSpec("book", "Book a seat.", '{"type": "object"}'),)


def test_llamafactory_custom_tags() -> None:
    record = {"messages": [{"role": "usr", "content": "hi"}, {"role": "bot", "content": "hello"}]}
    options = ShareGPTOptions(
        role_key="role",
        content_key="content",
        speakers={"usr": Speaker.USER, "bot": Speaker.ASSISTANT},
    )
    example = get_adapter("sharegpt")(
        record, AdapterSpec(messages_field="messages", options=options)
    )
    assert shape(example.response_turns) == [("assistant", [("text", None)])]


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ("not json", "conversations[1].value", "not JSON"),
        ('[{"name": "f"}]', "conversations[1].value[0].arguments", "missing"),
        ('{"arguments": {}}', "conversations[1].value.name", "expected a string"),
    ],
)
def test_a_malformed_function_call_names_the_field(value: str, field: str, message: str) -> None:
    record = {
        "conversations": [
            {"from": "human", "value": "q"},
            {"from": "function_call", "value": value},
        ]
    }
    with pytest.raises(FormatMismatch) as raised:
        get_adapter("sharegpt")(record, AdapterSpec())
    assert raised.value.field == field and message in raised.value.message


def test_openai_messages_keep_json_string_arguments_ids_and_tools() -> None:
    record = fixture("openai_tool_calls")
    first_call = next(m for m in record["traj"] if m.get("tool_calls"))["tool_calls"][0]
    example = get_adapter("openai_chat")(
        {**record, "tools": [WEATHER]}, AdapterSpec(messages_field="traj")
    )
    call = next(b for t in example.response_turns for b in t.blocks if b.kind is CALL)
    assert (call.name, call.text, call.call_id) == (
        first_call["function"]["name"],
        first_call["function"]["arguments"],
        first_call["id"],
    )
    assert example.tools[0].name == "get_weather"


# --- tool declarations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([WEATHER], (ToolSpec("get_weather", None, '{"type": "object"}'),)),
        ('[{"name": "f", "description": "d", "parameters": {}}]', (ToolSpec("f", "d", "{}"),)),
        (
            [{"name": "g", "input_schema": {"type": "object"}}],
            (ToolSpec("g", None, '{"type": "object"}'),),
        ),
        (
            [{"type": "openrouter:web_search", "parameters": {"max_uses": 1}}],
            (ToolSpec("openrouter:web_search"),),
        ),
        ("", ()),
        (None, ()),
    ],
)
def test_tool_declarations_in_every_documented_form(
    value: Any, expected: tuple[ToolSpec, ...]
) -> None:
    assert parse_tools(value, "tools") == expected


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("[{", "tools"),
        ({"name": "f"}, "tools"),
        ([{"description": "no name"}], "tools[0].name"),
        (
            [{"type": "function", "function": {"name": "f", "parameters": "x"}}],
            "tools[0].function.parameters",
        ),
        ([{"type": "retrieval", "function": {"name": "f"}}], "tools[0].type"),
    ],
)
def test_a_malformed_tool_declaration_names_the_field(value: Any, field: str) -> None:
    with pytest.raises(FormatMismatch) as raised:
        parse_tools(value, "tools")
    assert raised.value.field == field


def test_hermes_tools_in_a_system_prompt() -> None:
    lines = "\n".join(
        json.dumps({"type": "function", "function": {"name": name}}) for name in ("a", "b")
    )
    assert [t.name for t in tools_in_text(f"Tools:\n<tools>\n{lines}\n</tools>", "s")] == ["a", "b"]
    assert tools_in_text("call them within <tools> </tools> XML tags", "s") == ()
    real = fixture("sharegpt_hermes")["conversations"][0]["value"]
    assert tools_in_text(real, "s") == ()  # HermesWith declares `<tools>[]</tools>`


def test_anthropic_code_execution_declares_the_tools_it_calls() -> None:
    record = {
        "request": {
            "messages": [{"role": "user", "content": "3*4?"}],
            "tools": [{"type": "code_execution_20250825", "name": "code_execution"}],
        },
        "response": {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "12"}],
        },
    }
    example = get_adapter("anthropic_messages")(record, AdapterSpec())
    assert [t.name for t in example.tools] == [
        "code_execution",
        "bash_code_execution",
        "text_editor_code_execution",
    ]
    assert example.response_turns[0].blocks == (Block(TEXT, "12"),)
    assert THINKING not in {b.kind for t in example.response_turns for b in t.blocks}


def test_a_model_named_by_anything_but_a_string_names_its_field() -> None:
    """A number where a format keeps its model is a mistyped field, not a missing model."""
    native = "response.model"
    assert model_name({"response": {"model": "gpt-4o"}}, AdapterSpec(), native) == "gpt-4o"
    assert model_name({"response": {}}, AdapterSpec(), native) is None
    with pytest.raises(FormatMismatch) as mistyped:
        model_name({"response": {"model": 5}}, AdapterSpec(), native)
    assert (mistyped.value.field, "expected a string" in str(mistyped.value)) == (native, True)
