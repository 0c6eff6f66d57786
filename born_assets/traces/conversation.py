"""The neutral conversation model every trace adapter produces, and its text/JSON renderings.

A trace is a list of `Turn`s, each a role and typed `Block`s. An adapter turns one source record
into one `TraceExample` by splitting the turns at the first assistant turn: the prompt is every
turn before it; the response is that assistant turn and everything after it (tool results, later
user turns, later assistant turns). Request/response wrappers are the exception: the prompt is the
request's messages (earlier replayed assistant turns included) and the response is the response
message.

`render_prompt` layout: one section per turn, sections separated by a blank line. A section is a
header line `### <role>` followed by the turn's blocks, one after another, each on its own lines:

* text: the text as is;
* thinking / redacted_thinking: `<think>` newline text newline `</think>` (so the sanitizer can
  strip and count it);
* tool_call: `<tool_call name="..." id="...">` newline arguments newline `</tool_call>`;
* tool_result: `<tool_result name="..." id="...">` newline content newline `</tool_result>`.

Attributes are written only when known, as JSON strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar

from born_assets.traces.fields import (
    AdapterSpec,
    FormatMismatch,
    child,
    expect_dict,
    expect_list,
    expect_str,
)


class BlockKind(StrEnum):
    """What a block holds. Only `thinking` and `redacted_thinking` are hidden from a user."""

    TEXT = "text"
    THINKING = "thinking"
    REDACTED_THINKING = "redacted_thinking"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"


class Role(StrEnum):
    """Who produced a turn."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a turn.

    Attributes:
        kind: What the block holds.
        text: Its text; for a tool call the JSON arguments, for a tool result the content.
        name: The tool name (tool calls and results), else None.
        call_id: The id linking a tool call to its result, when the source has one.
    """

    kind: BlockKind
    text: str
    name: str | None = None
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One message: a role and its blocks, in source order."""

    role: Role
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class TraceExample:
    """One training example cut from a trace (see the module docstring for the split rule)."""

    prompt_turns: tuple[Turn, ...]
    response_turns: tuple[Turn, ...]
    source_row_id: str | None
    model: str | None
    timestamp: str | None


Adapter: TypeAlias = Callable[[dict[str, Any], AdapterSpec], TraceExample]
"""Every adapter: `adapt(record, spec) -> TraceExample`."""

_E = TypeVar("_E", bound=StrEnum)


def split_at_first_assistant(
    turns: Sequence[Turn], path: str
) -> tuple[tuple[Turn, ...], tuple[Turn, ...]]:
    """Split turns into (before the first assistant turn, from it on); none raises at `path`."""
    for index, turn in enumerate(turns):
        if turn.role is Role.ASSISTANT:
            return tuple(turns[:index]), tuple(turns[index:])
    raise FormatMismatch(path, "no assistant turn")


def render_prompt(turns: Iterable[Turn]) -> str:
    """Render turns as deterministic text (layout in the module docstring)."""
    return "\n\n".join(
        "\n".join([f"### {turn.role.value}", *(_render_block(b) for b in turn.blocks)])
        for turn in turns
    )


def _render_block(block: Block) -> str:
    if block.kind is BlockKind.TEXT:
        return block.text
    if block.kind in (BlockKind.THINKING, BlockKind.REDACTED_THINKING):
        return f"<think>\n{block.text}\n</think>"
    attributes = "".join(
        f" {key}={json.dumps(value, ensure_ascii=False)}"
        for key, value in (("name", block.name), ("id", block.call_id))
        if value is not None
    )
    tag = block.kind.value
    return f"<{tag}{attributes}>\n{block.text}\n</{tag}>"


def encode_turns(turns: Iterable[Turn]) -> str:
    """Encode turns as canonical compact JSON (sorted keys, None fields omitted, UTF-8 text)."""
    payload = [
        {"role": turn.role.value, "blocks": [_block_payload(b) for b in turn.blocks]}
        for turn in turns
    ]
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _block_payload(block: Block) -> dict[str, str]:
    payload = {"kind": block.kind.value, "text": block.text}
    if block.name is not None:
        payload["name"] = block.name
    if block.call_id is not None:
        payload["call_id"] = block.call_id
    return payload


def decode_turns(encoded: str) -> tuple[Turn, ...]:
    """Decode `encode_turns` output exactly; anything else raises `FormatMismatch`."""
    try:
        payload = json.loads(encoded)
    except json.JSONDecodeError as error:
        raise FormatMismatch("turns", f"not JSON: {error.msg}") from None
    return tuple(
        _decode_turn(item, f"turns[{index}]")
        for index, item in enumerate(expect_list(payload, "turns"))
    )


def _decode_turn(item: Any, path: str) -> Turn:
    item = _exact_keys(item, path, required={"role", "blocks"}, optional=set())
    role = _enum(Role, item["role"], child(path, "role"))
    blocks = expect_list(item["blocks"], child(path, "blocks"))
    return Turn(
        role,
        tuple(_decode_block(b, child(child(path, "blocks"), i)) for i, b in enumerate(blocks)),
    )


def _decode_block(item: Any, path: str) -> Block:
    item = _exact_keys(item, path, required={"kind", "text"}, optional={"name", "call_id"})
    name, call_id = item.get("name"), item.get("call_id")
    return Block(
        kind=_enum(BlockKind, item["kind"], child(path, "kind")),
        text=expect_str(item["text"], child(path, "text")),
        name=None if name is None else expect_str(name, child(path, "name")),
        call_id=None if call_id is None else expect_str(call_id, child(path, "call_id")),
    )


def _exact_keys(item: Any, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    item = expect_dict(item, path)
    for key in sorted(required - item.keys()):
        raise FormatMismatch(child(path, key), "missing")
    for key in sorted(item.keys() - required - optional):
        raise FormatMismatch(child(path, key), "unknown key")
    return item


def _enum(enum: type[_E], value: Any, path: str) -> _E:
    try:
        return enum(expect_str(value, path))
    except ValueError:
        known = ", ".join(member.value for member in enum)
        raise FormatMismatch(path, f"unknown value {value!r}; expected one of {known}") from None
