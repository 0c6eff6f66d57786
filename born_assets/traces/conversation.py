"""The neutral conversation model every trace adapter produces, and its prompt text.

A trace is a list of `Turn`s, each a role and typed `Block`s, plus the tools the teacher was given
(`ToolSpec`) and the outcome the source recorded (`Outcome`: a reward, a score, an exit status).
An adapter turns one source record into one `TraceExample` by splitting the turns at the first
assistant turn: the prompt is every turn before it; the response is that assistant turn and
everything after it (tool results, later user turns, later assistant turns). Request/response
wrappers are the exception: the prompt is the request's messages (earlier replayed assistant turns
included) and the response is the response message. `codec` stores a trace as JSON; `messages`
turns it into the OpenAI / TRL message list.

A tool result normally sits in a `tool` turn. In a `user` turn it is an observation the
environment sent as a user message (SWE-agent's text mode): the model saw it as user text.

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
from typing import Any, TypeAlias

from born_assets.traces.fields import (
    AdapterSpec,
    FormatMismatch,
    model_name,
    optional_field,
    row_id,
    timestamp,
)
from born_assets.traces.tools import ToolSpec, tools_in_text


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
class Outcome:
    """A result the source recorded for the trace: `reward` = `1.0`, `exit_status` = `submitted`."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class TraceExample:
    """One training example cut from a trace (see the module docstring for the split rule)."""

    prompt_turns: tuple[Turn, ...]
    response_turns: tuple[Turn, ...]
    source_row_id: str | None
    model: str | None
    timestamp: str | None
    tools: tuple[ToolSpec, ...] = ()
    outcome: tuple[Outcome, ...] = ()


def recorded_example(
    record: dict[str, Any],
    spec: AdapterSpec,
    turns: tuple[Sequence[Turn], Sequence[Turn]],
    *,
    model_at: str | None = None,
    time_at: str | None = None,
    tools: Iterable[ToolSpec] = (),
    outcome: Sequence[Outcome] | None = None,
) -> TraceExample:
    """The example of `record` with its (prompt, response) `turns` and what the record says of it.

    The row id, model and time come from the spec's fields, else from the format's own places
    (`model_at`, `time_at`; None: the format has none); the outcome is the spec's
    `reward_field` unless the format reads its own (`outcome`).
    """
    prompt, response = turns
    return TraceExample(
        prompt_turns=tuple(prompt),
        response_turns=tuple(response),
        source_row_id=row_id(record, spec),
        model=model_name(record, spec, model_at),
        timestamp=timestamp(record, spec, time_at),
        tools=tuple(tools),
        outcome=recorded_outcome(record, spec) if outcome is None else tuple(outcome),
    )


Adapter: TypeAlias = Callable[[dict[str, Any], AdapterSpec], TraceExample]
"""Every adapter: `adapt(record, spec) -> TraceExample`."""


def recorded_outcome(record: dict[str, Any], spec: AdapterSpec) -> tuple[Outcome, ...]:
    """The reward or score at `spec.reward_field`, named by that path (none when unset or absent).

    Raises:
        FormatMismatch: The value is not a number, a boolean or a string.
    """
    path = spec.reward_field
    value = optional_field(record, path) if path else None
    if path is None or value is None:
        return ()
    if isinstance(value, bool):
        return (Outcome(path, "true" if value else "false"),)
    if isinstance(value, int | float | str):
        return (Outcome(path, str(value)),)
    raise FormatMismatch(
        path, f"expected a number, a boolean or a string, got {type(value).__name__}"
    )


def system_prompt_tools(turns: Iterable[Turn], path: str) -> tuple[ToolSpec, ...]:
    """The tools the system turns declare in Hermes `<tools>...</tools>` (`tools.tools_in_text`)."""
    return tuple(
        tool
        for turn in turns
        if turn.role is Role.SYSTEM
        for block in turn.blocks
        for tool in tools_in_text(block.text, path)
    )


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
