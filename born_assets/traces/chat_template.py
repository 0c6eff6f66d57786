r"""Rendered chat-template strings: a conversation already turned into one model-ready text.

The spec names the template (`options.template`); nothing is guessed. The text is at
`spec.messages_field` (default `text`), or is `prompt_field` + `completion_field` joined (RL
frameworks store the rendered prompt and the sampled completion apart). Templates, as their
producers document them:

* `chatml` (OpenAI ChatML, Qwen, Hermes): `<|im_start|>ROLE\\nCONTENT<|im_end|>` per message.
  Roles `system`, `user`, `assistant`, `tool`. Hermes function calling on top: assistant
  `<tool_call>{"name", "arguments"}</tool_call>` are calls; `<tool_response>...</tool_response>`
  bodies in a `tool` turn (Hermes) or in a `user` turn made only of them (Qwen) are results;
  `<tools>[...]</tools>` in the system prompt declares the tools.
* `llama3` (Meta Llama 3, 3.1, 3.2, 3.3): `<|begin_of_text|>` then
  `<|start_header_id|>ROLE<|end_header_id|>\\n\\nCONTENT<|eot_id|>` per message (`<|eom_id|>`
  ends a message that waits for a tool). Roles `system`, `user`, `assistant`, and `ipython` (or
  `tool`) for tool output. An assistant message that is one JSON object `{"name", "parameters"}`
  (Llama 3.1 custom tools) is a call; a `<|python_tag|>` message (built-in tools) stays text.

A last header with no content (the generation prompt) is not a turn; a last message without its
end token runs to the end of the text (a completion cut where sampling stopped). Text outside any
message, an unknown role, a message that never ends before the next one, or a text with no
message at all is a `FormatMismatch` naming the field.
"""

from __future__ import annotations

import re
from enum import StrEnum
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
    system_prompt_tools,
)
from born_assets.traces.fields import (
    AdapterSpec,
    FormatMismatch,
    Options,
    expect_str,
    get_field,
    json_text,
)
from born_assets.traces.sharegpt import split_tool_call_tags


class Template(StrEnum):
    """The chat templates this adapter reads."""

    CHATML = "chatml"
    LLAMA3 = "llama3"


class ChatTemplateOptions(Options):
    """`options` of the `chat_template` format: which template rendered the text."""

    template: Template


_ROLES = {
    "system": Role.SYSTEM,
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
    "tool": Role.TOOL,
    "ipython": Role.TOOL,
}
_CHATML_ROLES = ("system", "user", "assistant", "tool")
_LLAMA3_ROLES = ("system", "user", "assistant", "ipython", "tool")
_RESPONSE = re.compile(r"<tool_response>\s*(.*?)\s*</tool_response>", re.DOTALL)


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one record holding a rendered conversation (see the module docstring).

    Raises:
        ValueError: The spec names no template (a configuration error, not a row error).
        FormatMismatch: The text does not fit the template (path of the field).
    """
    if not isinstance(spec.options, ChatTemplateOptions):
        raise ValueError("chat_template needs options.template (chatml or llama3)")
    text, path = _text(record, spec)
    if spec.options.template is Template.CHATML:
        pieces = _chatml(text, path)
    else:
        pieces = _llama3(text, path)
    turns = [_turn(role, content, spec.options.template) for role, content in pieces]
    prompt, response = split_at_first_assistant(turns, path)
    return recorded_example(
        record,
        spec,
        (prompt, response),
        tools=system_prompt_tools(prompt, path),
    )


def _text(record: dict[str, Any], spec: AdapterSpec) -> tuple[str, str]:
    if spec.completion_field is None:
        path = spec.messages_field or "text"
        return expect_str(get_field(record, path), path), path
    prompt_path = spec.prompt_field or "prompt"
    prompt = expect_str(get_field(record, prompt_path), prompt_path)
    completion = expect_str(get_field(record, spec.completion_field), spec.completion_field)
    return prompt + completion, f"{prompt_path}+{spec.completion_field}"


def _chatml(text: str, path: str) -> list[tuple[str, str]]:
    start, end = "<|im_start|>", "<|im_end|>"
    parts = text.split(start)
    if parts[0].strip():
        raise FormatMismatch(path, f"text before the first {start}: {parts[0].strip()[:40]!r}")
    pieces: list[tuple[str, str]] = []
    for index, part in enumerate(parts[1:], start=1):
        header, _, body = part.partition("\n")
        role = header.strip()
        if role not in _CHATML_ROLES:
            raise FormatMismatch(path, f"message {index}: unknown role {role!r}")
        content, closed, rest = body.partition(end)
        is_last = index == len(parts) - 1
        if not closed and not is_last:
            raise FormatMismatch(path, f"message {index} ({role}) has no {end}")
        if closed and rest.replace("<|endoftext|>", "").strip():
            raise FormatMismatch(
                path, f"text after {end} of message {index}: {rest.strip()[:40]!r}"
            )
        if is_last and not closed:
            content = content.removesuffix("<|endoftext|>")
            if not content.strip():
                continue  # the generation prompt
        pieces.append((role, content))
    if not pieces:
        raise FormatMismatch(path, f"no {start} message")
    return pieces


def _llama3(text: str, path: str) -> list[tuple[str, str]]:
    start, end_header = "<|start_header_id|>", "<|end_header_id|>"
    parts = text.split(start)
    head = parts[0].replace("<|begin_of_text|>", "")
    if head.strip():
        raise FormatMismatch(path, f"text before the first {start}: {head.strip()[:40]!r}")
    pieces: list[tuple[str, str]] = []
    for index, part in enumerate(parts[1:], start=1):
        role, found, body = part.partition(end_header)
        if not found or role.strip() not in _LLAMA3_ROLES:
            raise FormatMismatch(path, f"message {index}: unknown role {role.strip()[:40]!r}")
        body = body.removeprefix("\n\n")
        content, closer, rest = _until_end(body)
        is_last = index == len(parts) - 1
        if not closer and not is_last:
            raise FormatMismatch(path, f"message {index} ({role.strip()}) has no <|eot_id|>")
        if closer and rest.replace("<|end_of_text|>", "").strip():
            raise FormatMismatch(path, f"text after message {index}: {rest.strip()[:40]!r}")
        if is_last and not closer:
            content = content.removesuffix("<|end_of_text|>")
            if not content.strip():
                continue  # the generation prompt
        pieces.append((role.strip(), content))
    if not pieces:
        raise FormatMismatch(path, f"no {start} message")
    return pieces


def _until_end(body: str) -> tuple[str, str, str]:
    """(content, end token or "", what follows it): the message ends at the first end token."""
    ends = [(body.find(token), token) for token in ("<|eot_id|>", "<|eom_id|>")]
    found = [(at, token) for at, token in ends if at >= 0]
    if not found:
        return body, "", ""
    at, token = min(found)
    return body[:at], token, body[at + len(token) :]


def _turn(role_name: str, content: str, template: Template) -> Turn:
    role = _ROLES[role_name]
    if role is Role.ASSISTANT:
        if template is Template.LLAMA3:
            call = _llama3_call(content)
            if call is not None:
                return Turn(role, (call,))
        return Turn(role, split_tool_call_tags(content))
    if role is Role.TOOL:
        bodies = _RESPONSE.findall(content) if template is Template.CHATML else []
        return Turn(role, tuple(Block(BlockKind.TOOL_RESULT, b) for b in bodies or [content]))
    if role is Role.USER and template is Template.CHATML and _only_responses(content):
        bodies = _RESPONSE.findall(content)
        return Turn(Role.TOOL, tuple(Block(BlockKind.TOOL_RESULT, b) for b in bodies))
    return Turn(role, (Block(BlockKind.TEXT, content),))


def _only_responses(content: str) -> bool:
    return bool(_RESPONSE.search(content)) and not _RESPONSE.sub("", content).strip()


def _llama3_call(content: str) -> Block | None:
    try:
        value = json_values.loads(content)
    except json_values.NotJson:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    arguments = value.get("parameters", value.get("arguments"))
    if arguments is None or set(value) - {"name", "parameters", "arguments", "type"}:
        return None
    text = arguments if isinstance(arguments, str) else json_text(arguments)
    return Block(BlockKind.TOOL_CALL, text, name=value["name"])
