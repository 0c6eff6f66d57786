"""Anthropic Messages adapter for the `{request, response}` wrapper of `/v1/messages` calls.

The prompt is `request.system` (a string or text blocks, as a system turn) followed by
`request.messages`; the response is the `response` Message (type `message`, role `assistant`);
the tools are `request.tools` (`{name, description, input_schema}`; server tools by name, and
the code execution tool's `bash_code_execution` / `text_editor_code_execution` sub-tools).

Block mapping (any other block type is a `FormatMismatch`, never dropped silently):

* `text` -> text (citations are metadata and are not kept);
* `thinking` -> thinking (the `signature` is not kept); `redacted_thinking` -> redacted_thinking
  with empty text (the opaque `data` is not text, and secret scanners flag it);
* `tool_use`, `server_tool_use`, `mcp_tool_use` -> tool call (`input` as JSON, `id` as call id);
* `tool_result` and every `*_tool_result` (web search, code execution, MCP, ...) -> tool result:
  string content as is, text items by their text, anything else as JSON without the opaque
  `encrypted_content` / `encrypted_index` / `signature` values;
* media (`image`, `document`) and context-management blocks (`compaction`, `tool_addition`)
  cannot be represented as conversation text and raise a mismatch.

In a user message, tool results are the tool's words, not the user's: each run of `tool_result`
blocks becomes its own tool turn, in order, between the user turns around it.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from born_assets.traces.conversation import (
    Block,
    BlockKind,
    Role,
    TraceExample,
    Turn,
    recorded_example,
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
from born_assets.traces.tools import ToolSpec, declared_tools

ROLES: dict[str, Role] = {"system": Role.SYSTEM, "user": Role.USER, "assistant": Role.ASSISTANT}
"""Anthropic message roles (pydantic-ai also sends `system` messages) and their neutral roles."""

TOOL_CALL_TYPES = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
"""Block types that are a tool call."""

OPAQUE_KEYS = frozenset({"encrypted_content", "encrypted_index", "signature"})
"""Keys holding opaque provider blobs, left out of tool-result text."""

CODE_EXECUTION_SUBTOOLS = ("bash_code_execution", "text_editor_code_execution")
"""The calls Anthropic's code execution tool (`code_execution_20250825` and later) makes."""
_OLD_CODE_EXECUTION = frozenset({"code_execution_20250522"})


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one `{request, response}` Anthropic Messages exchange.

    Args:
        record: The parsed JSON line.
        spec: `id_field` (e.g. `response.id`); model defaults to `response.model`; Anthropic
            responses carry no time, so timestamp comes only from `timestamp_field`.

    Returns:
        The example: prompt = system + request messages, response = the response message.

    Raises:
        FormatMismatch: The record does not fit (path of the offending field).
    """
    request = expect_dict(get_field(record, "request"), "request")
    turns: list[Turn] = []
    if request.get("system"):
        system = _blocks(request["system"], "request.system")
        turns.append(Turn(Role.SYSTEM, system))
    messages = expect_list(required(request, "messages", "request"), "request.messages")
    for index, message in enumerate(messages):
        turns.extend(_message_turns(message, child("request.messages", index)))
    response = expect_dict(get_field(record, "response"), "response")
    for key, expected in (("type", "message"), ("role", "assistant")):
        if response.get(key) != expected:
            raise FormatMismatch(child("response", key), f"expected {expected!r}")
    content = _blocks(required(response, "content", "response"), "response.content")
    return recorded_example(
        record,
        spec,
        (tuple(turns), (Turn(Role.ASSISTANT, content),)),
        model_at="response.model",
        tools=_with_server_subtools(request, declared_tools(record, spec, "request.tools")),
    )


def _with_server_subtools(
    request: dict[str, Any], tools: tuple[ToolSpec, ...]
) -> tuple[ToolSpec, ...]:
    """The declared tools plus the tools a declared server tool calls by other names.

    Anthropic's code execution tool from `code_execution_20250825` on runs its work as
    `bash_code_execution` and `text_editor_code_execution` calls (`CODE_EXECUTION_SUBTOOLS`).
    """
    declared = request.get("tools")
    types = (
        {t.get("type") for t in declared if isinstance(t, dict)}
        if isinstance(declared, list)
        else set()
    )
    if any(
        isinstance(kind, str)
        and kind.startswith("code_execution_")
        and kind not in _OLD_CODE_EXECUTION
        for kind in types
    ):
        return (*tools, *(ToolSpec(name) for name in CODE_EXECUTION_SUBTOOLS))
    return tools


def _message_turns(message: Any, path: str) -> list[Turn]:
    message = expect_dict(message, path)
    role_name = expect_str(required(message, "role", path), child(path, "role"))
    role = ROLES.get(role_name)
    if role is None:
        known = ", ".join(ROLES)
        raise FormatMismatch(child(path, "role"), f"unknown role {role_name!r}; known: {known}")
    blocks = _blocks(required(message, "content", path), child(path, "content"))
    if role is not Role.USER:
        return [Turn(role, blocks)]
    runs = groupby(blocks, key=lambda block: block.kind is BlockKind.TOOL_RESULT)
    return [Turn(Role.TOOL if is_result else Role.USER, tuple(run)) for is_result, run in runs]


def _blocks(content: Any, path: str) -> tuple[Block, ...]:
    if isinstance(content, str):
        return (Block(BlockKind.TEXT, content),)
    items = expect_list(content, path)
    return tuple(
        _block(expect_dict(b, child(path, i)), child(path, i)) for i, b in enumerate(items)
    )


def _block(block: dict[str, Any], path: str) -> Block:
    kind = expect_str(required(block, "type", path), child(path, "type"))
    if kind == "text":
        return Block(BlockKind.TEXT, _string(block, "text", path))
    if kind == "thinking":
        return Block(BlockKind.THINKING, _string(block, "thinking", path))
    if kind == "redacted_thinking":
        return Block(BlockKind.REDACTED_THINKING, "")
    if kind in TOOL_CALL_TYPES:
        call_id = block.get("id")
        return Block(
            BlockKind.TOOL_CALL,
            json_text(required(block, "input", path)),
            name=_string(block, "name", path),
            call_id=call_id if isinstance(call_id, str) else None,
        )
    if kind == "tool_result" or kind.endswith("_tool_result"):
        call_id = block.get("tool_use_id")
        return Block(
            BlockKind.TOOL_RESULT,
            _result_text(block.get("content"), child(path, "content")),
            call_id=call_id if isinstance(call_id, str) else None,
        )
    raise FormatMismatch(child(path, "type"), f"block type {kind!r} is not conversation text")


def _string(block: dict[str, Any], key: str, path: str) -> str:
    return expect_str(required(block, key, path), child(path, key))


def _result_text(content: Any, path: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return json_text(_without_opaque(content))
    pieces = []
    for index, item in enumerate(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind in ("image", "document"):
            raise FormatMismatch(child(child(path, index), "type"), f"media {kind!r} in a result")
        is_text = kind == "text" and isinstance(item.get("text"), str)
        pieces.append(item["text"] if is_text else json_text(_without_opaque(item)))
    return "\n".join(pieces)


def _without_opaque(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_opaque(v) for k, v in value.items() if k not in OPAQUE_KEYS}
    if isinstance(value, list):
        return [_without_opaque(item) for item in value]
    return value
