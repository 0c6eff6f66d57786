"""Visible turns as the message list TRL's SFTTrainer and OpenAI fine-tuning files take.

`link_tool_calls` first gives every tool call an id and every tool result the id of the call it
answers, where the source left them out (ShareGPT, Hermes tags and Atropos rollouts carry no ids):

* a call without an id (or with an empty one: pydantic-ai records `""`) gets `call_<n>`
  (`n` = its position among the trace's calls, from 1; suffixed if the source already uses that
  id); a call whose id an earlier call already used gets that id suffixed, and so does the
  result that answers it;
* a result with an id answers the oldest unanswered call of that id; a result without one
  answers the oldest unanswered call (of its tool's name, when the result names one); a result
  that answers nothing keeps its id or none (the tool-use gate reports it);
* a result takes its tool's name from the call when it has none.

`to_messages` then maps turns to messages, one dict per message with every key present:
`{role, content, tool_calls, tool_call_id, name}` (absent values are None):

* system and user turns: their text, blocks joined by a blank line; a tool result inside a user
  turn with no call id is an observation the model saw as user text and stays user text;
* an assistant turn: its text as `content` and its calls as `tool_calls`
  (`{id, type: "function", function: {name, arguments}}`, arguments as the JSON text the source
  has); text written after a call starts a new assistant message, so the order is kept;
* every tool result (in a tool turn, or with a call id anywhere): one `tool` message with
  `tool_call_id` and the tool's `name`.

Nothing is added to the text; the ids are the only values made here, and `LinkStats` counts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from born_assets.traces.conversation import Block, BlockKind, Role, Turn


@dataclass(frozen=True, slots=True)
class LinkStats:
    """What `link_tool_calls` filled in or changed.

    Attributes:
        call_ids: Ids made for calls that had none.
        results_linked: Results without an id linked to a call by order.
        ids_renamed: Calls whose id an earlier call of the trace already used (tau-bench reuses
            ids), renamed `<id>_<n>` with the results that answer them, so each id is one call.
    """

    call_ids: int = 0
    results_linked: int = 0
    ids_renamed: int = 0


@dataclass(slots=True)
class _Call:
    source_id: str | None
    call_id: str
    name: str | None


class _Linker:
    """The calls still unanswered, in order, and every id given out so far."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.given: set[str] = set()
        self.pending: list[_Call] = []
        self.calls = self.made = self.linked = self.renamed = 0

    def call(self, block: Block) -> Block:
        self.calls += 1
        source = block.call_id
        if not source:
            call_id = self._fresh(f"call_{self.calls}")
            self.made += 1
        elif source in self.given:
            call_id = self._fresh(source)
            self.renamed += 1
        else:
            call_id = source
        self.given.add(call_id)
        self.pending.append(_Call(source, call_id, block.name))
        return replace(block, call_id=call_id)

    def result(self, block: Block) -> Block:
        for index, call in enumerate(self.pending):
            if block.call_id is not None:
                matches = block.call_id == call.source_id
            else:
                matches = block.name is None or block.name == call.name
            if matches:
                del self.pending[index]
                self.linked += block.call_id is None
                return replace(block, call_id=call.call_id, name=block.name or call.name)
        return block

    def _fresh(self, base: str) -> str:
        candidate, suffix = base, 1
        while candidate in self.taken or candidate in self.given:
            suffix += 1
            candidate = f"{base}_{suffix}"
        return candidate


def link_tool_calls(turns: Iterable[Turn]) -> tuple[tuple[Turn, ...], LinkStats]:
    """Give calls and results the ids that pair them (rules in the module docstring)."""
    turns = tuple(turns)
    linker = _Linker({b.call_id for t in turns for b in t.blocks if b.call_id is not None})
    out: list[Turn] = []
    for turn in turns:
        blocks: list[Block] = []
        for block in turn.blocks:
            if block.kind is BlockKind.TOOL_CALL:
                block = linker.call(block)
            elif _is_tool_output(turn, block):
                block = linker.result(block)
            blocks.append(block)
        out.append(Turn(turn.role, tuple(blocks)))
    return tuple(out), LinkStats(linker.made, linker.linked, linker.renamed)


def _is_tool_output(turn: Turn, block: Block) -> bool:
    """A result a tool produced (not an observation sent as user text)."""
    if block.kind is not BlockKind.TOOL_RESULT:
        return False
    return turn.role is not Role.USER or block.call_id is not None


def message(
    role: str,
    content: str | None,
    tool_calls: list[dict[str, Any]] | None = None,
    tool_call_id: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """One message with every key of the release's message struct."""
    return {
        "role": role,
        "content": content,
        "tool_calls": tool_calls,
        "tool_call_id": tool_call_id,
        "name": name,
    }


def to_messages(turns: Iterable[Turn]) -> list[dict[str, Any]]:
    """The message list of visible, linked turns (rules in the module docstring).

    Raises:
        ValueError: A turn still holds hidden reasoning (strip it first).
    """
    messages: list[dict[str, Any]] = []
    for turn in turns:
        if any(b.kind in (BlockKind.THINKING, BlockKind.REDACTED_THINKING) for b in turn.blocks):
            raise ValueError("to_messages needs visible turns: strip hidden reasoning first")
        if turn.role is Role.ASSISTANT:
            messages.extend(_assistant(turn.blocks))
        elif turn.role is Role.TOOL:
            messages.extend(_tool(block) for block in turn.blocks)
        else:
            messages.extend(_speaker(turn))
    return messages


def _speaker(turn: Turn) -> list[dict[str, Any]]:
    """A system or user turn: runs of its text as messages, a result with a call id as a tool's."""
    messages: list[dict[str, Any]] = []
    texts: list[str] = []
    for block in turn.blocks:
        if _is_tool_output(turn, block):
            if texts:
                messages.append(message(turn.role.value, "\n\n".join(texts)))
                texts = []
            messages.append(_tool(block))
        else:
            texts.append(block.text)
    if texts:
        messages.append(message(turn.role.value, "\n\n".join(texts)))
    return messages


def _tool(block: Block) -> dict[str, Any]:
    return message("tool", block.text, tool_call_id=block.call_id, name=block.name)


def _assistant(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    texts: list[str] = []
    calls: list[dict[str, Any]] = []

    def flush() -> None:
        if texts or calls:
            messages.append(message("assistant", "\n\n".join(texts) or None, list(calls) or None))
        texts.clear()
        calls.clear()

    for block in blocks:
        if block.kind is BlockKind.TOOL_CALL:
            calls.append(
                {
                    "id": block.call_id,
                    "type": "function",
                    "function": {"name": block.name, "arguments": block.text},
                }
            )
        elif block.kind is BlockKind.TOOL_RESULT:
            flush()
            messages.append(_tool(block))
        else:
            if calls:
                flush()
            texts.append(block.text)
    flush()
    return messages
