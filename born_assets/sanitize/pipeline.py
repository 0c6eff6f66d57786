"""`sanitize_row`: one raw row in, what a user would see out: messages, tools and a closure.

A row is a conversation: a lane row is one user turn (the prompt as sent) and one assistant turn
(the response text); an import row carries its whole trace (`traces.codec`). Steps, each recorded
as a `Transform` with counts only, never the removed text, and the field it applied to:

1. `link_tool_calls`: calls and results without ids are paired (`traces.messages`);
2. hidden reasoning goes, from the prompt turns and the response turns (`sanitize.turns`):
   `drop_thinking_blocks`, `drop_redacted_thinking`, `strip_think_tags`, and
   `drop_think_tool_calls` (a think-style tool's calls, results and declaration);
3. the visible turns become the row's `messages` (canonical for training) and its prompt text;
4. `rewrite_closure`: the visible response rendered as Plan / Code / Checks / Result
   (`sanitize.closure`), with `cut_tool_output` when a command's output was cut there;
5. `strip_control_chars`: NUL and the other C0 controls but tab, newline and carriage return
   leave the prompt, response, messages and tools (`text.control`); recorded just before
   `rewrite_closure`, which stays the last step.

A step that changed nothing is not recorded, except `rewrite_closure`. When nothing visible is
left, the row is `EmptyVisible` with a reason from `EmptyReason`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from born_assets.sanitize.closure import ClosureResult, to_closure
from born_assets.sanitize.turns import TurnStripStats, strip_turns, visible_tools
from born_assets.specs.closure_policy import ClosurePolicy
from born_assets.text.control import strip_control, strip_control_deep
from born_assets.text.thinking import StripStats
from born_assets.traces.codec import Trace, decode_trace
from born_assets.traces.conversation import Block, BlockKind, Role, Turn, render_prompt
from born_assets.traces.messages import link_tool_calls, to_messages
from born_assets.traces.tools import tools_payload


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
        prompt: The prompt text with hidden reasoning removed.
        response: The response in closure format.
        messages: The visible conversation (`traces.messages.to_messages`).
        tools: The declared tools without think-style ones (`traces.tools.tools_payload`).
        transforms: The steps applied, in order.
        sections_derived: Closure sections taken from the source.
        sections_absent: Closure sections holding the absent marker.
        python_parses: Fence body -> whether it parses, for the Python the rewrite parsed.
    """

    prompt: str
    response: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    transforms: tuple[Transform, ...]
    sections_derived: tuple[str, ...]
    sections_absent: tuple[str, ...]
    python_parses: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EmptyVisible:
    """A row with nothing visible left; `reason` is an `EmptyReason` value."""

    reason: str


def sanitize_row(
    prompt: str,
    response: str,
    response_format: Literal["text", "turns"],
    policy: ClosurePolicy | None = None,
) -> SanitizedRow | EmptyVisible:
    """Strip hidden reasoning from a row and render what is left (see the module docstring).

    Args:
        prompt: Prompt text (for an import row, its rendered prompt turns).
        response: Teacher text (`"text"`) or `codec.encode_trace` JSON (`"turns"`).
        response_format: Which of the two `response` is.
        policy: The policy's `closure` section.

    Returns:
        The sanitized row, or `EmptyVisible` when the prompt or response has nothing visible.

    Raises:
        FormatMismatch: `response` is not valid `encode_trace` JSON.
        ValueError: `response_format` is neither "text" nor "turns".
    """
    if response_format == "text":
        trace = Trace(
            (Turn(Role.USER, (Block(BlockKind.TEXT, prompt),)),),
            (Turn(Role.ASSISTANT, (Block(BlockKind.TEXT, response),)),),
        )
    elif response_format == "turns":
        trace = decode_trace(response)
    else:
        raise ValueError(f"response_format must be 'text' or 'turns', got {response_format!r}")
    return _sanitize(trace, prompt if response_format == "text" else None, policy)


def _sanitize(
    trace: Trace, prompt_text: str | None, policy: ClosurePolicy | None
) -> SanitizedRow | EmptyVisible:
    transforms: list[Transform] = []
    turns, links = link_tool_calls((*trace.prompt_turns, *trace.response_turns))
    if links.call_ids or links.results_linked or links.ids_renamed:
        links_detail: dict[str, int | str] = {
            "call_ids": links.call_ids,
            "results": links.results_linked,
            "renamed": links.ids_renamed,
        }
        transforms.append(Transform("link_tool_calls", links_detail))
    cut = len(trace.prompt_turns)
    prompt_turns, prompt_stats = strip_turns(turns[:cut])
    response_turns, response_stats = strip_turns(turns[cut:])
    tools, think_tools = visible_tools(trace.tools)
    _record(transforms, prompt_stats, "prompt", 0)
    _record(transforms, response_stats, "response", think_tools)
    visible_prompt = _prompt(prompt_turns, prompt_text)
    if not visible_prompt.strip():
        hidden = prompt_stats.hidden.blocks
        return EmptyVisible(
            EmptyReason.PROMPT_ONLY_HIDDEN_REASONING if hidden else EmptyReason.EMPTY_PROMPT
        )
    if not any(turn.role is Role.ASSISTANT for turn in response_turns):
        hidden = response_stats.hidden.blocks
        return EmptyVisible(
            EmptyReason.RESPONSE_ONLY_HIDDEN_REASONING if hidden else EmptyReason.EMPTY_RESPONSE
        )
    closure = to_closure(_closure_input(response_turns, prompt_text), trace.outcome, policy)
    _closure_steps(transforms, closure)
    prompt, in_prompt = strip_control(visible_prompt)
    response, in_response = strip_control(closure.text)
    (messages, tools_out), in_messages = strip_control_deep(
        [to_messages((*prompt_turns, *response_turns)), tools_payload(tools)]
    )
    if in_prompt or in_response or in_messages:  # recorded before rewrite_closure, the last step
        counts: dict[str, int | str] = {
            "prompt_chars": in_prompt,
            "response_chars": in_response,
            "messages_chars": in_messages,
        }
        transforms.insert(len(transforms) - 1, Transform("strip_control_chars", counts))
    return SanitizedRow(
        prompt,
        response,
        messages,
        tools_out,
        tuple(transforms),
        closure.derived,
        closure.absent,
        closure.python_parses,
    )


def _prompt(turns: tuple[Turn, ...], text: str | None) -> str:
    """The prompt as text: a lane's own text, stripped; else the visible turns rendered."""
    if text is None:
        return render_prompt(turns)
    return "\n\n".join(b.text for turn in turns for b in turn.blocks)


def _closure_input(turns: tuple[Turn, ...], prompt_text: str | None) -> str | tuple[Turn, ...]:
    """A lane response is text (so an existing closure stays as it is); a trace is its turns."""
    if prompt_text is not None:
        return "\n\n".join(b.text for turn in turns for b in turn.blocks)
    return turns


def _record(transforms: list[Transform], stats: TurnStripStats, where: str, tools: int) -> None:
    steps: list[tuple[str, StripStats]] = [
        ("drop_thinking_blocks", stats.thinking_blocks),
        ("drop_redacted_thinking", stats.redacted_thinking),
        ("strip_think_tags", stats.think_tags),
    ]
    for name, found in steps:
        if found.blocks:
            detail: dict[str, int | str] = {"field": where, "blocks": found.blocks}
            if name != "drop_redacted_thinking":
                detail["chars"] = found.chars
            transforms.append(Transform(name, detail))
    calls = stats.think_tool_calls
    if calls.blocks or calls.chars or tools:
        detail = {"field": where, "calls": calls.blocks, "chars": calls.chars}
        if tools:
            detail["tool_declarations"] = tools
        transforms.append(Transform("drop_think_tool_calls", detail))


def _closure_steps(transforms: list[Transform], closure: ClosureResult) -> None:
    if closure.outputs_cut:
        detail: dict[str, int | str] = {"outputs": closure.outputs_cut, "chars": closure.chars_cut}
        transforms.append(Transform("cut_tool_output", detail))
    transforms.append(
        Transform(
            "rewrite_closure",
            {"derived": ",".join(closure.derived), "absent": ",".join(closure.absent)},
        )
    )
