"""Hidden reasoning removed from a trace's turns and tools.

What goes: structured `thinking` and `redacted_thinking` blocks; tagged reasoning inside text
(`text.thinking.strip_thinking`); and reasoning smuggled through a think-style tool
(`text.thinking.is_think_tool`): each such call, the result that answers it (by call id, so link
the calls first: `traces.messages.link_tool_calls`), and the tool's declaration. Tool calls and
results of every other tool are kept as they are: they are what the model did and saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from born_assets.text.thinking import StripStats, is_think_tool, strip_thinking
from born_assets.traces.conversation import Block, BlockKind, Turn
from born_assets.traces.tools import ToolSpec


@dataclass(frozen=True, slots=True)
class TurnStripStats:
    """What `strip_turns` removed, by kind of hidden content.

    Attributes:
        think_tags: Inline tagged regions removed from text blocks.
        thinking_blocks: Structured `thinking` blocks dropped (chars = their text).
        redacted_thinking: `redacted_thinking` blocks dropped.
        think_tool_calls: Calls of a think-style tool dropped, with their results (chars = the
            arguments and results removed).
    """

    think_tags: StripStats = StripStats()
    thinking_blocks: StripStats = StripStats()
    redacted_thinking: StripStats = StripStats()
    think_tool_calls: StripStats = StripStats()

    @property
    def hidden(self) -> StripStats:
        """Everything removed, all kinds together."""
        return (
            self.think_tags + self.thinking_blocks + self.redacted_thinking + self.think_tool_calls
        )


def strip_turns(turns: Iterable[Turn]) -> tuple[tuple[Turn, ...], TurnStripStats]:
    """Remove hidden reasoning from turns (see the module docstring).

    A text block that is blank after stripping is dropped, and so is a turn left with no block.

    Args:
        turns: Turns as an adapter produced them, tool calls linked to their results.

    Returns:
        The visible turns, and what was removed by kind.
    """
    turns = tuple(turns)
    think_ids = {
        b.call_id
        for turn in turns
        for b in turn.blocks
        if b.kind is BlockKind.TOOL_CALL and is_think_tool(b.name) and b.call_id is not None
    }
    kept: list[Turn] = []
    stats = {kind: StripStats() for kind in ("tags", "thinking", "redacted", "tool")}
    for turn in turns:
        blocks: list[Block] = []
        for block in turn.blocks:
            kind = _hidden_kind(block, think_ids)
            if kind is not None:
                stats[kind] += StripStats(
                    int(block.kind is not BlockKind.TOOL_RESULT), len(block.text)
                )
            elif block.kind is BlockKind.TEXT:
                text, found = strip_thinking(block.text)
                stats["tags"] += found
                if text.strip():
                    blocks.append(replace(block, text=text))
            else:
                blocks.append(block)
        if blocks:
            kept.append(Turn(turn.role, tuple(blocks)))
    return tuple(kept), TurnStripStats(
        stats["tags"], stats["thinking"], stats["redacted"], stats["tool"]
    )


def _hidden_kind(block: Block, think_ids: set[str]) -> str | None:
    if block.kind is BlockKind.THINKING:
        return "thinking"
    if block.kind is BlockKind.REDACTED_THINKING:
        return "redacted"
    if block.kind is BlockKind.TOOL_CALL and is_think_tool(block.name):
        return "tool"
    if (
        block.kind is BlockKind.TOOL_RESULT
        and block.call_id is not None
        and block.call_id in think_ids
    ):
        return "tool"
    return None


def visible_tools(tools: Iterable[ToolSpec]) -> tuple[tuple[ToolSpec, ...], int]:
    """The declared tools without think-style ones, and how many were dropped."""
    tools = tuple(tools)
    kept = tuple(tool for tool in tools if not is_think_tool(tool.name))
    return kept, len(tools) - len(kept)
