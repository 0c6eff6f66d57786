"""A conversation's dialogue: what its people, model and tools said, without the system turns.

A system prompt is the setting of a conversation, not its content: the rows of one trace dataset
usually share one (tau-bench's airline agent policy is 6 KB, longer than most of its
conversations), so two different conversations compared with their system prompts look alike.
Near-dedup compares dialogues (`near_dedup.fields: [dialogue]`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def dialogue_text(messages: Iterable[Mapping[str, Any]] | None) -> str:
    """Every non-system message's text in order, messages separated by a blank line.

    A message gives its content, then each tool call's name and arguments; no messages give "".
    """
    parts: list[str] = []
    for message in messages or ():
        if message.get("role") == "system":
            continue
        if message.get("content"):
            parts.append(message["content"])
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            parts.append(f"{function.get('name') or ''} {function.get('arguments') or ''}".strip())
    return "\n\n".join(parts)
