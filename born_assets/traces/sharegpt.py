"""ShareGPT adapter: plain, Hermes, and LLaMA-Factory (`tools`, `function_call`, `observation`).

A record holds `conversations` (or `spec.messages_field`): a list of `{"from", "value"}` (the keys
are options: LLaMA-Factory's `role_tag`/`content_tag`). Speakers map to roles by `SPEAKERS` plus
`options.speakers`; any other speaker is a `FormatMismatch`, never a guess. As LLaMA-Factory
documents the layout:

* `system` may also be a field beside the turns (`spec.system_field`): it becomes the first turn;
* `tools` (a JSON string or list of function schemas; `spec.tools_field` moves it) are the tools
  the teacher was given; a Hermes system prompt's `<tools>...</tools>` JSON declares them too;
* a `function_call` turn is an assistant turn holding one call (`{"name", "arguments"}`) or, for
  parallel calls, a JSON list of them; a `<think>...</think>` before the JSON (LLaMA-Factory's
  `thought_words`) is hidden reasoning, kept as a thinking block for the sanitizer;
* `observation` and `tool` turns are tool turns of one result (the value verbatim), each answering
  the oldest unanswered call (`messages.link_tool_calls`);
* Hermes assistant turns keep their text verbatim (inline `<think>` is left for the sanitizer),
  except that each `<tool_call>{"name", "arguments"}</tool_call>` outside code and outside hidden
  reasoning becomes a tool-call block. A `<tool_call>` whose body is not such JSON stays text.
"""

from __future__ import annotations

from bisect import bisect_right
from enum import StrEnum
from typing import Any

from born_assets.text import json_values
from born_assets.text.thinking import code_ranges, hidden_spans
from born_assets.traces.conversation import (
    Block,
    BlockKind,
    Role,
    TraceExample,
    Turn,
    recorded_example,
    split_at_first_assistant,
    system_prompt_tools,
)
from born_assets.traces.fields import (
    AdapterSpec,
    FormatMismatch,
    Options,
    child,
    expect_dict,
    expect_list,
    expect_str,
    get_field,
    json_text,
    optional_field,
    required,
)
from born_assets.traces.tools import declared_tools


class Speaker(StrEnum):
    """What a ShareGPT speaker is."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    FUNCTION_CALL = "function_call"
    OBSERVATION = "observation"


SPEAKERS: dict[str, Speaker] = {
    "system": Speaker.SYSTEM,
    "human": Speaker.USER,
    "user": Speaker.USER,
    "gpt": Speaker.ASSISTANT,
    "assistant": Speaker.ASSISTANT,
    "function_call": Speaker.FUNCTION_CALL,
    "observation": Speaker.OBSERVATION,
    "tool": Speaker.OBSERVATION,
}
"""ShareGPT speaker names (`from`) and what each one is (LLaMA-Factory's default tags)."""

_ROLES = {
    Speaker.SYSTEM: Role.SYSTEM,
    Speaker.USER: Role.USER,
    Speaker.ASSISTANT: Role.ASSISTANT,
    Speaker.FUNCTION_CALL: Role.ASSISTANT,
    Speaker.OBSERVATION: Role.TOOL,
}
_CALL_OPEN, _CALL_CLOSE = "<tool_call>", "</tool_call>"


class ShareGPTOptions(Options):
    """`options` of the `sharegpt` format (LLaMA-Factory's `tags`).

    Attributes:
        role_key: The turn key naming the speaker (LLaMA-Factory `role_tag`).
        content_key: The turn key holding the text (`content_tag`).
        speakers: More speaker names and what each is (`user_tag: human` is `{human: user}`).
    """

    role_key: str = "from"
    content_key: str = "value"
    speakers: dict[str, Speaker] = {}


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one ShareGPT record.

    Args:
        record: The parsed JSON line.
        spec: Field locations; `messages_field` defaults to `conversations`, `model_field` and
            `timestamp_field` to the top-level `model` / `timestamp` when present (Hermes),
            `tools_field` to `tools`.

    Returns:
        The example, split at the first assistant turn.

    Raises:
        FormatMismatch: The record is not ShareGPT (path of the offending field).
    """
    options = spec.options if isinstance(spec.options, ShareGPTOptions) else ShareGPTOptions()
    speakers = {**SPEAKERS, **options.speakers}
    path = spec.messages_field or "conversations"
    entries = expect_list(get_field(record, path), path)
    system = _system(record, spec)
    turns = [system] if system is not None else []
    turns += [_turn(entry, child(path, i), options, speakers) for i, entry in enumerate(entries)]
    prompt, response = split_at_first_assistant(turns, path)
    return recorded_example(
        record,
        spec,
        (prompt, response),
        model_at="model",
        time_at="timestamp",
        tools=(*declared_tools(record, spec, "tools"), *system_prompt_tools(prompt, path)),
    )


def _system(record: dict[str, Any], spec: AdapterSpec) -> Turn | None:
    path = spec.system_field
    value = optional_field(record, path) if path else None
    if path is None or value is None or not expect_str(value, path):
        return None
    return Turn(Role.SYSTEM, (Block(BlockKind.TEXT, value),))


def _turn(entry: Any, path: str, options: ShareGPTOptions, speakers: dict[str, Speaker]) -> Turn:
    entry = expect_dict(entry, path)
    speaker_path = child(path, options.role_key)
    name = expect_str(required(entry, options.role_key, path), speaker_path)
    speaker = speakers.get(name)
    if speaker is None:
        known = ", ".join(speakers)
        raise FormatMismatch(speaker_path, f"unknown speaker {name!r}; known: {known}")
    value_path = child(path, options.content_key)
    value = expect_str(required(entry, options.content_key, path), value_path)
    role = _ROLES[speaker]
    if speaker is Speaker.FUNCTION_CALL:
        return Turn(role, function_call_blocks(value, value_path))
    if role is Role.TOOL:
        return Turn(role, (Block(BlockKind.TOOL_RESULT, value),))
    if role is Role.ASSISTANT:
        return Turn(role, split_tool_call_tags(value))
    return Turn(role, (Block(BlockKind.TEXT, value),))


def function_call_blocks(value: str, path: str) -> tuple[Block, ...]:
    """The blocks of a `function_call` value: hidden reasoning first, then one call per object."""
    spans = hidden_spans(value)
    thinking = tuple(Block(BlockKind.THINKING, value[start:end]) for start, end in spans)
    body = value[spans[-1][1] :] if spans else value
    try:
        parsed = json_values.loads(body)
    except json_values.NotJson as error:
        raise FormatMismatch(path, f"function_call value is not JSON: {error.msg}") from None
    calls = parsed if isinstance(parsed, list) else [parsed]
    return thinking + tuple(
        _function_call(call, child(path, i) if isinstance(parsed, list) else path)
        for i, call in enumerate(calls)
    )


def _function_call(call: Any, path: str) -> Block:
    call = expect_dict(call, path)
    name = expect_str(call.get("name"), child(path, "name"))
    if "arguments" not in call:
        raise FormatMismatch(child(path, "arguments"), "missing")
    return Block(BlockKind.TOOL_CALL, _arguments_text(call["arguments"]), name=name)


def _arguments_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json_text(arguments)


def _parse_call(body: str) -> Block | None:
    try:
        call = json_values.loads(body)
    except json_values.NotJson:
        return None
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return None
    return Block(BlockKind.TOOL_CALL, _arguments_text(call.get("arguments", {})), name=call["name"])


def split_tool_call_tags(text: str) -> tuple[Block, ...]:
    """Split Hermes-style assistant text into text blocks and `<tool_call>` blocks.

    Args:
        text: An assistant message as the model wrote it.

    Returns:
        Blocks in order; blank text between calls is dropped. Text with no tool call (or only
        blank text) comes back as one text block, unchanged.
    """
    if _CALL_OPEN not in text:
        return (Block(BlockKind.TEXT, text),)
    protected = _union([*code_ranges(text), *hidden_spans(text)])
    starts = [start for start, _ in protected]
    blocks: list[Block] = []
    kept_from = search_from = 0
    while (opened := text.find(_CALL_OPEN, search_from)) >= 0:
        closed = text.find(_CALL_CLOSE, opened)
        if closed < 0:
            break
        search_from = closed + len(_CALL_CLOSE)
        if _inside(protected, starts, opened):
            continue
        call = _parse_call(text[opened + len(_CALL_OPEN) : closed])
        if call is None:
            continue
        if text[kept_from:opened].strip():
            blocks.append(Block(BlockKind.TEXT, text[kept_from:opened]))
        blocks.append(call)
        kept_from = search_from
    if text[kept_from:].strip() or not blocks:
        blocks.append(Block(BlockKind.TEXT, text[kept_from:]))
    return tuple(blocks)


def _union(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _inside(ranges: list[tuple[int, int]], starts: list[int], position: int) -> bool:
    index = bisect_right(starts, position) - 1
    return index >= 0 and ranges[index][1] > position
