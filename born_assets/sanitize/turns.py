"""Hidden reasoning removed from a trace's turns: thinking blocks dropped, inline tags stripped."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from born_assets.text.thinking import StripStats, strip_thinking
from born_assets.traces.conversation import Block, BlockKind, Turn


@dataclass(frozen=True, slots=True)
class TurnStripStats:
    """What `strip_turns` removed, by kind of hidden content.

    Attributes:
        think_tags: Inline tagged regions removed from text blocks.
        thinking_blocks: Structured `thinking` blocks dropped (chars = their text).
        redacted_thinking: `redacted_thinking` blocks dropped.
    """

    think_tags: StripStats = StripStats()
    thinking_blocks: StripStats = StripStats()
    redacted_thinking: StripStats = StripStats()


def strip_turns(turns: Iterable[Turn]) -> tuple[tuple[Turn, ...], TurnStripStats]:
    """Drop thinking blocks and strip inline tags from text blocks; keep tool blocks as they are.

    A text block that is blank after stripping is dropped, and so is a turn left with no block.

    Args:
        turns: Turns as an adapter produced them.

    Returns:
        The visible turns, and what was removed by kind.
    """
    kept: list[Turn] = []
    tags, thinking, redacted = StripStats(), StripStats(), StripStats()
    for turn in turns:
        blocks: list[Block] = []
        for block in turn.blocks:
            if block.kind is BlockKind.THINKING:
                thinking += StripStats(1, len(block.text))
            elif block.kind is BlockKind.REDACTED_THINKING:
                redacted += StripStats(1, len(block.text))
            elif block.kind is BlockKind.TEXT:
                text, stats = strip_thinking(block.text)
                tags += stats
                if text.strip():
                    blocks.append(replace(block, text=text))
            else:
                blocks.append(block)
        if blocks:
            kept.append(Turn(turn.role, tuple(blocks)))
    return tuple(kept), TurnStripStats(tags, thinking, redacted)
