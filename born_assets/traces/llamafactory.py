"""LLaMA-Factory v1 adapter: `messages[]` whose `content` is a list of typed `{type, value}` blocks.

Block types: `text` (text; in a `tool` message, a tool result), `reasoning` (thinking), and
`tool_call` (JSON `{"name", "arguments"}`; anything else is a mismatch). Roles are `system`,
`user`, `assistant`, `tool`. The example splits at the first assistant turn. `tools` (a JSON
string of function schemas, as LLaMA-Factory writes it) are the tools the teacher was given.
"""

from __future__ import annotations

from typing import Any

from born_assets.text import json_values
from born_assets.traces.conversation import (
    Block,
    BlockKind,
    Role,
    TraceExample,
    Turn,
    recorded_example,
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
    required,
)
from born_assets.traces.tools import declared_tools


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one LLaMA-Factory v1 record (`messages_field` defaults to `messages`).

    Raises:
        FormatMismatch: The record does not fit (path of the offending field).
    """
    path = spec.messages_field or "messages"
    messages = expect_list(get_field(record, path), path)
    turns = [_turn(message, child(path, index)) for index, message in enumerate(messages)]
    prompt, response = split_at_first_assistant(turns, path)
    return recorded_example(
        record,
        spec,
        (prompt, response),
        tools=declared_tools(record, spec, "tools"),
    )


def _turn(message: Any, path: str) -> Turn:
    message = expect_dict(message, path)
    role_path = child(path, "role")
    role_name = expect_str(required(message, "role", path), role_path)
    try:
        role = Role(role_name)
    except ValueError:
        known = ", ".join(Role)
        raise FormatMismatch(role_path, f"unknown role {role_name!r}; known: {known}") from None
    content_path = child(path, "content")
    items = expect_list(required(message, "content", path), content_path)
    blocks = tuple(
        _block(expect_dict(item, child(content_path, i)), child(content_path, i), role)
        for i, item in enumerate(items)
    )
    return Turn(role, blocks)


def _block(item: dict[str, Any], path: str, role: Role) -> Block:
    kind = expect_str(required(item, "type", path), child(path, "type"))
    value_path = child(path, "value")
    value = expect_str(required(item, "value", path), value_path)
    if kind == "text":
        return Block(BlockKind.TOOL_RESULT if role is Role.TOOL else BlockKind.TEXT, value)
    if kind == "reasoning":
        return Block(BlockKind.THINKING, value)
    if kind == "tool_call":
        return _tool_call(value, value_path)
    raise FormatMismatch(child(path, "type"), f"unknown block type {kind!r}")


def _tool_call(value: str, path: str) -> Block:
    try:
        call = json_values.loads(value)
    except json_values.NotJson as error:
        raise FormatMismatch(path, f"tool_call is not JSON: {error.msg}") from None
    call = expect_dict(call, path)
    name = expect_str(call.get("name"), child(path, "name"))
    arguments = required(call, "arguments", path)
    text = arguments if isinstance(arguments, str) else json_text(arguments)
    return Block(BlockKind.TOOL_CALL, text, name=name)
