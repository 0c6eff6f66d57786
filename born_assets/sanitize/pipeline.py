"""`sanitize_row`: the one entry point that turns a raw prompt/response into what a user would see.

Steps, in order, each recorded as a `Transform` (counts only, never the removed text):

1. `strip_think_tags` on the prompt (`field=prompt`).
2. For a text response: `strip_think_tags` (`field=response`). For a turns response
   (`encode_turns` JSON): `drop_thinking_blocks`, `drop_redacted_thinking`, `strip_think_tags`,
   then `drop_followup_turns` for user/system turns after the first assistant turn (they are not
   the response; a later tool result is kept).
3. `rewrite_closure` into the closure format (always recorded, with the derived/absent sections).

A step that removed nothing is not recorded, except `rewrite_closure`. When nothing visible is
left, the row is `EmptyVisible` with a reason from `EmptyReason`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from born_assets.sanitize.closure import ClosureResult, to_closure
from born_assets.sanitize.turns import strip_turns
from born_assets.text.thinking import StripStats, strip_thinking
from born_assets.traces.conversation import BlockKind, Role, Turn, decode_turns


class EmptyReason(StrEnum):
    """Why a row has nothing visible left."""

    EMPTY_PROMPT = "empty_prompt"
    PROMPT_ONLY_HIDDEN_REASONING = "prompt_only_hidden_reasoning"
    EMPTY_RESPONSE = "empty_response"
    RESPONSE_ONLY_HIDDEN_REASONING = "response_only_hidden_reasoning"


@dataclass(frozen=True, slots=True)
class Transform:
    """One applied sanitization step and its counts, e.g. `strip_think_tags {blocks, chars}`."""

    name: str
    detail: dict[str, int | str]


@dataclass(frozen=True, slots=True)
class SanitizedRow:
    """A row that kept visible content.

    Attributes:
        prompt: The prompt with hidden reasoning removed.
        response: The response in closure format.
        transforms: The steps applied, in order.
        sections_derived: Closure sections taken from the source.
        sections_absent: Closure sections holding the absent marker.
        python_parses: Fence body -> whether it parses, for the Python the rewrite parsed.
    """

    prompt: str
    response: str
    transforms: tuple[Transform, ...]
    sections_derived: tuple[str, ...]
    sections_absent: tuple[str, ...]
    python_parses: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EmptyVisible:
    """A row with nothing visible left; `reason` is an `EmptyReason` value."""

    reason: str


def sanitize_row(
    prompt: str, response: str, response_format: Literal["text", "turns"]
) -> SanitizedRow | EmptyVisible:
    """Strip hidden reasoning from a prompt and response, and rewrite the response as a closure.

    Args:
        prompt: Prompt text (a rendered prompt for traces).
        response: Teacher text (`"text"`) or `encode_turns` JSON (`"turns"`).
        response_format: Which of the two `response` is.

    Returns:
        The sanitized row, or `EmptyVisible` when the prompt or response has nothing visible.

    Raises:
        FormatMismatch: `response` is not valid `encode_turns` JSON.
        ValueError: `response_format` is neither "text" nor "turns".
    """
    transforms: list[Transform] = []
    visible_prompt, stats = strip_thinking(prompt)
    _record(transforms, "strip_think_tags", stats, field="prompt")
    if not visible_prompt.strip():
        return EmptyVisible(
            EmptyReason.PROMPT_ONLY_HIDDEN_REASONING if stats.blocks else EmptyReason.EMPTY_PROMPT
        )
    if response_format == "text":
        closure = _text_response(response, transforms)
    elif response_format == "turns":
        closure = _turns_response(decode_turns(response), transforms)
    else:
        raise ValueError(f"response_format must be 'text' or 'turns', got {response_format!r}")
    if isinstance(closure, EmptyVisible):
        return closure
    transforms.append(
        Transform(
            "rewrite_closure",
            {"derived": ",".join(closure.derived), "absent": ",".join(closure.absent)},
        )
    )
    return SanitizedRow(
        visible_prompt,
        closure.text,
        tuple(transforms),
        closure.derived,
        closure.absent,
        closure.python_parses,
    )


def _record(transforms: list[Transform], name: str, stats: StripStats, **extra: str) -> None:
    if stats.blocks:
        transforms.append(Transform(name, {**extra, "blocks": stats.blocks, "chars": stats.chars}))


def _empty(hidden_blocks: int) -> EmptyVisible:
    if hidden_blocks:
        return EmptyVisible(EmptyReason.RESPONSE_ONLY_HIDDEN_REASONING)
    return EmptyVisible(EmptyReason.EMPTY_RESPONSE)


def _text_response(response: str, transforms: list[Transform]) -> ClosureResult | EmptyVisible:
    visible, stats = strip_thinking(response)
    _record(transforms, "strip_think_tags", stats, field="response")
    if not visible.strip():
        return _empty(stats.blocks)
    return to_closure(visible)


def _turns_response(
    turns: tuple[Turn, ...], transforms: list[Transform]
) -> ClosureResult | EmptyVisible:
    visible, stats = strip_turns(turns)
    _record(transforms, "drop_thinking_blocks", stats.thinking_blocks)
    if stats.redacted_thinking.blocks:
        transforms.append(
            Transform("drop_redacted_thinking", {"blocks": stats.redacted_thinking.blocks})
        )
    _record(transforms, "strip_think_tags", stats.think_tags, field="response")
    kept, dropped_turns, dropped_chars = _split_followups(visible)
    if dropped_turns:
        transforms.append(
            Transform("drop_followup_turns", {"turns": dropped_turns, "chars": dropped_chars})
        )
    if not kept:
        hidden = stats.thinking_blocks + stats.redacted_thinking + stats.think_tags
        return _empty(hidden.blocks)
    return to_closure(kept)


def _split_followups(turns: tuple[Turn, ...]) -> tuple[tuple[Turn, ...], int, int]:
    """Keep assistant and tool turns and tool results anywhere; count dropped turns and chars."""
    kept: list[Turn] = []
    dropped_turns = dropped_chars = 0
    for turn in turns:
        if turn.role in (Role.ASSISTANT, Role.TOOL):
            kept.append(turn)
            continue
        results = tuple(b for b in turn.blocks if b.kind is BlockKind.TOOL_RESULT)
        others = [b for b in turn.blocks if b.kind is not BlockKind.TOOL_RESULT]
        if results:
            kept.append(Turn(turn.role, results))
        if others:
            dropped_turns += 1
            dropped_chars += sum(len(b.text) for b in others)
    return tuple(kept), dropped_turns, dropped_chars
