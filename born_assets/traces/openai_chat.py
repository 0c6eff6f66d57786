"""OpenAI chat adapters: a message list (`adapt`) and a request/response wrapper (`adapt_exchange`).

`adapt` reads an OpenAI message list at `spec.messages_field` (default `messages`; tau-bench run
records use `traj`) and splits it at the first assistant turn; the tools are the record's `tools`
(the OpenAI fine-tuning and TRL layout). `adapt_exchange` reads the wrapper
`{"request": <chat body>, "response": <chat.completion>}`: the prompt is `request.messages`, the
response is the single choice's message (more or fewer than one choice is a mismatch), the tools
are `request.tools`.

Message mapping (roles by `ROLES`; anything else is a `FormatMismatch`):

* `content`: a string is one text block; a part list gives `text` and `refusal` parts as text and
  Mistral `thinking` parts as thinking. Media parts (images, audio, files) cannot be represented
  in a text dataset and raise a mismatch instead of being dropped silently.
* Hidden reasoning becomes thinking blocks placed first: `reasoning_details` when present (its
  `reasoning.text` / `reasoning.summary` entries as thinking, `reasoning.encrypted` as
  redacted_thinking), else the first non-empty of `reasoning_content`, `reasoning` (providers that
  send several send the same reasoning twice). `<think>` inside `content` stays in the text for
  the sanitizer.
* `tool_calls` (function or custom; several in one message are parallel calls) and a legacy
  `function_call` with a name become tool-call blocks, in order, with their ids; `arguments` is
  kept as the source wrote it (a JSON string, as OpenAI sends it; an object is written as JSON),
  whether or not it parses (the tool-use gate judges that); Groq `executed_tools` become a tool
  call and its result.
* A `tool` (or legacy `function`) message is a tool turn of one tool-result block.
"""

from __future__ import annotations

from typing import Any

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

ROLES: dict[str, Role] = {
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
    "tool": Role.TOOL,
    "function": Role.TOOL,
}
"""OpenAI message roles and the neutral role each one is."""

MEDIA_PARTS = frozenset(
    {"image_url", "input_audio", "file", "document_url", "video_url", "image", "input_image"}
)
"""Content part types that carry media, not text."""


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt a record holding an OpenAI chat message list.

    Args:
        record: The parsed JSON line.
        spec: `messages_field` (default `messages`), `id_field`, optional `model_field` (default
            a top-level `model` when present) and `timestamp_field`.

    Returns:
        The example, split at the first assistant turn.

    Raises:
        FormatMismatch: The record does not fit (path of the offending field).
    """
    path = spec.messages_field or "messages"
    turns = message_turns(get_field(record, path), path)
    prompt, response = split_at_first_assistant(turns, path)
    return recorded_example(
        record,
        spec,
        (prompt, response),
        model_at="model",
        tools=declared_tools(record, spec, "tools"),
    )


def adapt_exchange(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt a `{request, response}` chat-completions exchange.

    Args:
        record: The parsed JSON line.
        spec: `id_field` (e.g. `response.id`); model defaults to `response.model`, timestamp to
            `response.created` (Unix seconds, rendered as ISO 8601 UTC).

    Returns:
        The example: prompt = request messages, response = the response message.

    Raises:
        FormatMismatch: The record does not fit (path of the offending field).
    """
    request = expect_dict(get_field(record, "request"), "request")
    prompt = message_turns(required(request, "messages", "request"), "request.messages")
    response = expect_dict(get_field(record, "response"), "response")
    choices = expect_list(required(response, "choices", "response"), "response.choices")
    if len(choices) != 1:
        raise FormatMismatch("response.choices", f"expected one choice, got {len(choices)}")
    choice = expect_dict(choices[0], "response.choices[0]")
    path = "response.choices[0].message"
    turn = message_turn(expect_dict(required(choice, "message", "response.choices[0]"), path), path)
    if turn.role is not Role.ASSISTANT:
        raise FormatMismatch(child(path, "role"), f"expected assistant, got {turn.role.value}")
    return recorded_example(
        record,
        spec,
        (prompt, (turn,)),
        model_at="response.model",
        time_at="response.created",
        tools=declared_tools(record, spec, "request.tools"),
    )


def message_turns(messages: Any, path: str) -> tuple[Turn, ...]:
    """Map an OpenAI message list to turns, one turn per message."""
    return tuple(
        message_turn(expect_dict(message, child(path, index)), child(path, index))
        for index, message in enumerate(expect_list(messages, path))
    )


def message_turn(message: dict[str, Any], path: str) -> Turn:
    """Map one OpenAI message to a turn (see the module docstring)."""
    role_name = expect_str(required(message, "role", path), child(path, "role"))
    role = ROLES.get(role_name)
    if role is None:
        known = ", ".join(ROLES)
        raise FormatMismatch(child(path, "role"), f"unknown role {role_name!r}; known: {known}")
    if role is Role.TOOL:
        return Turn(role, (_tool_result(message, path),))
    blocks = [
        *_reasoning_blocks(message, path),
        *_executed_tool_blocks(message, path),
        *_content_blocks(message.get("content"), child(path, "content")),
        *_refusal_blocks(message, path),
        *_tool_call_blocks(message, path),
    ]
    return Turn(role, tuple(blocks) or (Block(BlockKind.TEXT, ""),))


def _tool_result(message: dict[str, Any], path: str) -> Block:
    content_path = child(path, "content")
    blocks = _content_blocks(message.get("content"), content_path)
    if any(block.kind is not BlockKind.TEXT for block in blocks):
        raise FormatMismatch(content_path, "a tool message holds text only")
    name, call_id = message.get("name"), message.get("tool_call_id")
    return Block(
        BlockKind.TOOL_RESULT,
        "\n".join(block.text for block in blocks),
        name=name if isinstance(name, str) else None,
        call_id=call_id if isinstance(call_id, str) else None,
    )


def _content_blocks(content: Any, path: str) -> list[Block]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Block(BlockKind.TEXT, content)] if content else []
    parts = expect_list(content, path)
    return [
        _part_block(expect_dict(p, child(path, i)), child(path, i)) for i, p in enumerate(parts)
    ]


def _part_block(part: dict[str, Any], path: str) -> Block:
    kind = expect_str(required(part, "type", path), child(path, "type"))
    if kind in ("text", "refusal"):
        return Block(BlockKind.TEXT, expect_str(required(part, kind, path), child(path, kind)))
    if kind == "thinking":
        return Block(BlockKind.THINKING, _thinking_text(required(part, kind, path), path))
    if kind in MEDIA_PARTS:
        raise FormatMismatch(child(path, "type"), f"media part {kind!r} cannot become text")
    raise FormatMismatch(child(path, "type"), f"unknown content part type {kind!r}")


def _thinking_text(thinking: Any, path: str) -> str:
    if isinstance(thinking, str):
        return thinking
    items = expect_list(thinking, child(path, "thinking"))
    texts = []
    for index, item in enumerate(items):
        item_path = child(child(path, "thinking"), index)
        texts.append(
            expect_str(required(expect_dict(item, item_path), "text", item_path), item_path)
        )
    return "\n".join(texts)


def _reasoning_blocks(message: dict[str, Any], path: str) -> list[Block]:
    details = message.get("reasoning_details")
    if details:
        details_path = child(path, "reasoning_details")
        return [
            _detail_block(expect_dict(d, child(details_path, i)), child(details_path, i))
            for i, d in enumerate(expect_list(details, details_path))
        ]
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if value is not None and expect_str(value, child(path, key)):
            return [Block(BlockKind.THINKING, value)]
    return []


def _detail_block(detail: dict[str, Any], path: str) -> Block:
    kind = detail.get("type")
    if kind == "reasoning.text":
        return Block(BlockKind.THINKING, expect_str(detail.get("text", ""), child(path, "text")))
    if kind == "reasoning.summary":
        return Block(BlockKind.THINKING, expect_str(detail.get("summary"), child(path, "summary")))
    if kind == "reasoning.encrypted":
        return Block(BlockKind.REDACTED_THINKING, "")
    raise FormatMismatch(child(path, "type"), f"unknown reasoning detail type {kind!r}")


def _refusal_blocks(message: dict[str, Any], path: str) -> list[Block]:
    refusal = message.get("refusal")
    if refusal is None or not expect_str(refusal, child(path, "refusal")):
        return []
    return [Block(BlockKind.TEXT, refusal)]


def _tool_call_blocks(message: dict[str, Any], path: str) -> list[Block]:
    calls_path = child(path, "tool_calls")
    blocks = [
        _tool_call(expect_dict(call, child(calls_path, i)), child(calls_path, i))
        for i, call in enumerate(expect_list(message.get("tool_calls") or [], calls_path))
    ]
    legacy = message.get("function_call")
    if isinstance(legacy, dict) and legacy.get("name"):
        blocks.append(_function(legacy, child(path, "function_call"), None))
    return blocks


def _tool_call(call: dict[str, Any], path: str) -> Block:
    kind = call.get("type", "function")
    call_id = call.get("id") if isinstance(call.get("id"), str) else None
    if kind == "function":
        function_path = child(path, "function")
        return _function(
            expect_dict(required(call, "function", path), function_path), function_path, call_id
        )
    if kind == "custom":
        custom_path = child(path, "custom")
        custom = expect_dict(required(call, "custom", path), custom_path)
        name = expect_str(required(custom, "name", custom_path), child(custom_path, "name"))
        return Block(BlockKind.TOOL_CALL, _arguments(custom.get("input", "")), name, call_id)
    raise FormatMismatch(child(path, "type"), f"unknown tool call type {kind!r}")


def _function(function: dict[str, Any], path: str, call_id: str | None) -> Block:
    name = expect_str(required(function, "name", path), child(path, "name"))
    return Block(BlockKind.TOOL_CALL, _arguments(function.get("arguments", "")), name, call_id)


def _arguments(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json_text(arguments)


def _executed_tool_blocks(message: dict[str, Any], path: str) -> list[Block]:
    tools_path = child(path, "executed_tools")
    blocks: list[Block] = []
    for index, tool in enumerate(expect_list(message.get("executed_tools") or [], tools_path)):
        tool = expect_dict(tool, child(tools_path, index))
        name = tool.get("name") or tool.get("type")
        name = name if isinstance(name, str) else None
        blocks.append(Block(BlockKind.TOOL_CALL, _arguments(tool.get("arguments", "")), name))
        blocks.append(Block(BlockKind.TOOL_RESULT, _arguments(tool.get("output", "")), name))
    return blocks
