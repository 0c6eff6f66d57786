"""Render a visible response as closure text by meaning: Plan, Code (or Patch), Checks, Result.

The response is what the assistant said, wrote, ran and concluded, in order (`text_items` for
text, `actions` for tool calls and text-mode commands). Sections, by meaning:

* Plan: the assistant's visible prose before its first action (an action is a tool call, a
  command it ran, or code it wrote);
* Code / Patch: what it wrote: code and diffs in its text, and its edits (calls of an edit tool);
  `## Patch` when every piece of code is a diff;
* Checks: the commands and tests it ran, each with its observed output (cut to
  `closure.max_output_chars` with a visible marker), and checks it wrote (asserts, test code);
* Result: the prose after its last action, what it submitted (calls of a submit tool, with the
  answer they returned), and the outcome the source recorded (reward, score, exit status).

A text-mode agent's command is the fence that ends its message when the environment answers it
(an observation: a turn of results answering no call), and any later message ending in a fence.
Prose between two actions belongs to the step it introduces: the section of the next action.
With no action at all, the Result is the last assistant turn's prose (earlier answers in a
multi-turn chat stay in the row's `messages`). User turns are not part of the closure; an
observation sent as a user message is the output of the command before it. Nothing is
invented; a section with nothing derived holds exactly `ABSENT_MARKER`. Text that already is a
closure comes back unchanged (idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from born_assets.sanitize.actions import (
    Action,
    ActionKind,
    classify,
    cut_output,
    fence,
    render_action,
)
from born_assets.sanitize.text_items import Item, Part, text_items
from born_assets.specs.closure_policy import ClosurePolicy
from born_assets.text.closure import read_closure, render_closure
from born_assets.text.thinking import fenced_blocks
from born_assets.traces.conversation import Block, BlockKind, Outcome, Role, Turn

_PART_OF = {ActionKind.EDIT: Part.CODE, ActionKind.SUBMIT: Part.RESULT, ActionKind.RUN: Part.CHECK}


@dataclass(frozen=True, slots=True)
class ClosureResult:
    """A closure-format text and which sections were derived from the source or absent."""

    text: str
    derived: tuple[str, ...]
    absent: tuple[str, ...]
    python_parses: dict[str, bool] = field(default_factory=dict)
    """Fence body -> whether it parses, for each Python fence the rewrite parsed (so later
    stages need not parse it again)."""
    outputs_cut: int = 0
    """Command outputs cut to the policy length."""
    chars_cut: int = 0
    """Characters of output cut."""


def to_closure(
    visible: str | Sequence[Turn],
    outcome: Sequence[Outcome] = (),
    policy: ClosurePolicy | None = None,
) -> ClosureResult:
    """Render a visible response (text, or linked turns without hidden blocks) as a closure.

    Args:
        visible: Teacher text after `strip_thinking`, or response turns after `strip_turns`
            whose tool calls are linked to their results (`traces.messages.link_tool_calls`).
        outcome: What the source recorded about the trace (reward, score, exit status).
        policy: Tool roles and the output length (the policy's `closure` section).

    Returns:
        The closure text, the derived / absent section names (`plan`, `code` or `patch`,
        `checks`, `result`), and what was cut.

    Raises:
        ValueError: The turns still hold thinking blocks.
    """
    policy = policy if policy is not None else ClosurePolicy()
    if isinstance(visible, str):
        known = read_closure(visible) if not outcome else None
        if known is not None:
            return ClosureResult(known.text, known.derived, known.absent)
        return _render(text_items(visible), outcome, 0, 0)
    walker = _Walker(tuple(visible), policy)
    items = walker.items()
    return _render(items, outcome, walker.outputs_cut, walker.chars_cut)


class _Walker:
    """Turns -> items, pairing each action with its observed output."""

    def __init__(self, turns: tuple[Turn, ...], policy: ClosurePolicy) -> None:
        self.turns = turns
        self.policy = policy
        self.outputs = {
            b.call_id: b.text
            for t in turns
            for b in t.blocks
            if b.kind is BlockKind.TOOL_RESULT and b.call_id is not None
        }
        self.called = {b.call_id for t in turns for b in t.blocks if b.kind is BlockKind.TOOL_CALL}
        self.consumed: set[int] = set()  # turns whose observation a text action took
        self.outputs_cut = self.chars_cut = 0

    def items(self) -> list[Item]:
        found: list[Item] = []
        for index, turn in enumerate(self.turns):
            for position, block in enumerate(turn.blocks):
                if block.kind in (BlockKind.THINKING, BlockKind.REDACTED_THINKING):
                    raise ValueError("to_closure needs visible turns: run strip_turns first")
                found.extend(self._block(index, turn, position, block))
        return found

    def _block(self, index: int, turn: Turn, position: int, block: Block) -> list[Item]:
        if block.kind is BlockKind.TOOL_CALL:
            output = self.outputs.get(block.call_id) if block.call_id else None
            action = Action(block.name or "tool", block.text, output)
            return [self._action(action, index)]
        if block.kind is BlockKind.TOOL_RESULT:
            if block.call_id in self.called or index in self.consumed:
                return []  # shown with its call
            label = "Output (of no call in this trace):"
            return [Item(Part.CHECK, f"{label}\n{self._cut(block.text)}", turn=index)]
        if turn.role is not Role.ASSISTANT:
            return []  # user and system text is not part of the response's closure
        is_last = position == len(turn.blocks) - 1
        observation = self._observation(index + 1) if is_last else None
        if observation is None and not (is_last and self.consumed):
            return text_items(block.text, index)
        return self._text_action(block.text, observation, index)

    def _observation(self, index: int) -> str | None:
        """The text of turn `index` if it is an observation that answers no call."""
        if index >= len(self.turns):
            return None
        blocks = self.turns[index].blocks
        if self.turns[index].role is Role.ASSISTANT or not all(
            b.kind is BlockKind.TOOL_RESULT and b.call_id is None for b in blocks
        ):
            return None
        return "\n".join(b.text for b in blocks)

    def _text_action(self, text: str, observation: str | None, index: int) -> list[Item]:
        """A message ending in a command fence: the text before it, then the command run.

        A fence is a command when the environment answered it (`observation`), or when the
        model already worked this way in the trace (its last command may go unanswered).
        """
        fences = fenced_blocks(text)
        last = fences[-1] if fences else None
        if last is None or text[last.end :].strip():
            return text_items(text, index)
        command = last.body.strip()
        name = command.split(maxsplit=1)[0] if command else "command"
        if observation is not None:
            self.consumed.add(index + 1)
        action = Action(name, last.body, observation, is_text=True)
        return [*text_items(text[: last.start], index), self._action(action, index)]

    def _action(self, action: Action, index: int) -> Item:
        kind = classify(action, self.policy)
        text, cut = render_action(action, kind, self.policy)
        if cut:
            self.outputs_cut += 1
            self.chars_cut += cut
        return Item(_PART_OF[kind], text, turn=index)

    def _cut(self, output: str) -> str:
        text, cut = cut_output(output, self.policy.max_output_chars)
        if cut:
            self.outputs_cut += 1
            self.chars_cut += cut
        return fence(text)


def _outcome_lines(outcome: Sequence[Outcome]) -> list[str]:
    if not outcome:
        return []
    lines = ["Outcome recorded by the source:"]
    for item in outcome:
        if "\n" in item.value:
            lines.append(f"- `{item.name}`:\n{fence(item.value)}")
        else:
            lines.append(f"- `{item.name}`: {item.value}")
    return ["\n".join(lines)]


def _render(
    items: list[Item], outcome: Sequence[Outcome], outputs_cut: int, chars_cut: int
) -> ClosureResult:
    sections: dict[Part, list[str]] = {part: [] for part in Part}
    actions = [i for i, item in enumerate(items) if item.part is not Part.PROSE]
    if not actions:
        last_turn = max((item.turn for item in items), default=0)
        sections[Part.RESULT] = [item.text for item in items if item.turn == last_turn]
    else:
        first, last = actions[0], actions[-1]
        pending: list[str] = []
        for index, item in enumerate(items):
            if item.part is not Part.PROSE:
                sections[item.part] += [*pending, item.text]
                pending = []
            elif index < first:
                sections[Part.PLAN].append(item.text)
            elif index > last:
                sections[Part.RESULT].append(item.text)
            else:
                pending.append(item.text)
    code = [item for item in items if item.part is Part.CODE]
    rendered = render_closure(
        plan=sections[Part.PLAN],
        code=sections[Part.CODE],
        checks=sections[Part.CHECK],
        result=sections[Part.RESULT] + _outcome_lines(outcome),
        is_patch=bool(code) and all(item.is_diff for item in code),
    )
    parses = dict(item.parsed for item in items if item.parsed is not None)
    return ClosureResult(
        rendered.text, rendered.derived, rendered.absent, parses, outputs_cut, chars_cut
    )
