"""ShareGPT adapter: plain (`human`/`gpt`), Hermes, and `function_call`/`observation` variants.

A record holds `conversations` (or `spec.messages_field`): a list of `{"from", "value"}`.
Speakers map to roles by `SPEAKERS`; any other speaker is a `FormatMismatch`, never a guess.

* `function_call` turns (LLaMA-Factory / glaive) are assistant turns holding one tool call; the
  value must be JSON `{"name": str, "arguments": object | str}`.
* `observation` and `tool` turns are tool turns holding one tool result (the value verbatim).
* Hermes assistant turns keep their text verbatim (inline `<think>` is left for the sanitizer),
  except that each `<tool_call>{"name", "arguments"}</tool_call>` outside code and outside hidden
  reasoning becomes a tool-call block. A `<tool_call>` whose body is not such JSON stays text.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from typing import Any

from born_assets.text.thinking import code_ranges, hidden_spans
from born_assets.traces.conversation import (
    Block,
    BlockKind,
    Role,
    TraceExample,
    Turn,
    split_at_first_assistant,
)
from born_assets.traces.fields import (
    AdapterSpec,
    FormatMismatch,
    child,
    expect_dict,
    expect_list,
    expect_str,
    get_field,
    json_text,
    model_name,
    required,
    row_id,
    timestamp,
)

SPEAKERS: dict[str, Role] = {
    "system": Role.SYSTEM,
    "human": Role.USER,
    "user": Role.USER,
    "gpt": Role.ASSISTANT,
    "assistant": Role.ASSISTANT,
    "function_call": Role.ASSISTANT,
    "observation": Role.TOOL,
    "tool": Role.TOOL,
}
"""ShareGPT speaker names (`from`) and the role each one is."""

_CALL_OPEN, _CALL_CLOSE = "<tool_call>", "</tool_call>"


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one ShareGPT record.

    Args:
        record: The parsed JSON line.
        spec: Field locations; `messages_field` defaults to `conversations`, `model_field` and
            `timestamp_field` to the top-level `model` / `timestamp` when present (Hermes).

    Returns:
        The example, split at the first assistant turn.

    Raises:
        FormatMismatch: The record is not ShareGPT (path of the offending field).
    """
    path = spec.messages_field or "conversations"
    entries = expect_list(get_field(record, path), path)
    turns = [_turn(entry, child(path, index)) for index, entry in enumerate(entries)]
    prompt, response = split_at_first_assistant(turns, path)
    return TraceExample(
        prompt_turns=prompt,
        response_turns=response,
        source_row_id=row_id(record, spec),
        model=model_name(record, spec, "model"),
        timestamp=timestamp(record, spec, "timestamp"),
    )


def _turn(entry: Any, path: str) -> Turn:
    entry = expect_dict(entry, path)
    speaker = expect_str(required(entry, "from", path), child(path, "from"))
    role = SPEAKERS.get(speaker)
    if role is None:
        known = ", ".join(SPEAKERS)
        raise FormatMismatch(child(path, "from"), f"unknown speaker {speaker!r}; known: {known}")
    value_path = child(path, "value")
    value = expect_str(required(entry, "value", path), value_path)
    if speaker == "function_call":
        return Turn(role, (_function_call(value, value_path),))
    if role is Role.TOOL:
        return Turn(role, (Block(BlockKind.TOOL_RESULT, value),))
    if role is Role.ASSISTANT:
        return Turn(role, split_tool_call_tags(value))
    return Turn(role, (Block(BlockKind.TEXT, value),))


def _function_call(value: str, path: str) -> Block:
    try:
        call = json.loads(value)
    except json.JSONDecodeError as error:
        raise FormatMismatch(path, f"function_call value is not JSON: {error.msg}") from None
    call = expect_dict(call, path)
    name = expect_str(call.get("name"), child(path, "name"))
    if "arguments" not in call:
        raise FormatMismatch(child(path, "arguments"), "missing")
    return Block(BlockKind.TOOL_CALL, _arguments_text(call["arguments"]), name=name)


def _arguments_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json_text(arguments)


def _parse_call(body: str) -> Block | None:
    try:
        call = json.loads(body)
    except json.JSONDecodeError:
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
