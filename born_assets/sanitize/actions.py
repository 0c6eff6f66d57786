"""What an agent did, by meaning: each action is an edit, a submission or a command it ran.

An action is a tool call, or (in text-mode agents such as SWE-agent) the command fence that ends
an assistant message the environment then answered. `classify` decides by name, from the policy
(`closure.edit_tools`, `closure.submit_tools`): an edit tool writes files (an editor tool whose
`command` argument is `view` only reads, so it is a command); a submission tool hands in the
answer; anything else is a command run. A text action is named by its first word.

`render_action` writes an action as closure text: a label naming the tool, the arguments (a JSON
object's one-line values inline, each multi-line string value in a fence of its own, so edits and
scripts stay readable; anything else verbatim in a fence), then the observed output, cut to
`closure.max_output_chars` with a visible marker (`cut_output`). Nothing is added but the labels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

from born_assets.specs.closure_policy import ClosurePolicy
from born_assets.text import json_values
from born_assets.text.thinking import BACKTICK_RUNS

VIEW_COMMANDS = frozenset({"view"})
"""Values of an editor tool's `command` argument that only read."""


class ActionKind(Enum):
    """What an action is, by meaning."""

    EDIT = "edit"
    SUBMIT = "submit"
    RUN = "run"


@dataclass(frozen=True, slots=True)
class Action:
    """One action: the tool (or command word), its arguments as written, its observed output."""

    name: str
    arguments: str
    output: str | None
    is_text: bool = False
    """A command the model wrote in a fence (the arguments are the command text)."""


def classify(action: Action, policy: ClosurePolicy) -> ActionKind:
    """Edit, submission or command run (see the module docstring)."""
    name = action.name.lower()
    if name in policy.submit_tools:
        return ActionKind.SUBMIT
    if name in policy.edit_tools and _command(action) not in VIEW_COMMANDS:
        return ActionKind.EDIT
    return ActionKind.RUN


def _command(action: Action) -> str | None:
    if action.is_text:
        return None
    try:
        arguments = json_values.loads(action.arguments)
    except json_values.NotJson:
        return None
    command = arguments.get("command") if isinstance(arguments, dict) else None
    return command if isinstance(command, str) else None


def fence(body: str, lang: str = "") -> str:
    """Fence `body` with a backtick run longer than any inside it, tagged `lang`."""
    longest = max((len(run) for run in BACKTICK_RUNS.findall(body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{body}\n{ticks}" if body else f"{ticks}{lang}\n{ticks}"


def cut_output(text: str, limit: int) -> tuple[str, int]:
    """`text` cut to `limit` characters (its head and tail, a marker between); chars cut."""
    if len(text) <= limit:
        return text, 0
    head = limit // 2
    tail = limit - head
    cut = len(text) - limit
    marker = f"\n[... {cut} characters of output cut here (closure.max_output_chars) ...]\n"
    return text[:head] + marker + text[len(text) - tail :], cut


_LABELS = {
    ActionKind.EDIT: "Edited with",
    ActionKind.SUBMIT: "Submitted with",
    ActionKind.RUN: "Ran",
}


def render_action(action: Action, kind: ActionKind, policy: ClosurePolicy) -> tuple[str, int]:
    """The closure text of one action, and how many output characters were cut."""
    parts = [f"{_LABELS[kind]} `{action.name}`:"]
    if action.is_text:
        parts.append(fence(action.arguments))
    else:
        parts.extend(arguments_view(action.arguments))
    cut = 0
    if action.output is not None and kind is not ActionKind.EDIT:
        output = action.output
        if kind is ActionKind.RUN:
            output, cut = cut_output(output, policy.max_output_chars)
        parts += ["Output:", fence(output)]
    return "\n".join(parts), cut


def arguments_view(arguments: str) -> list[str]:
    """A tool call's arguments as closure text (see the module docstring)."""
    if not arguments.strip():
        return []
    try:
        value = json_values.loads(arguments)
    except json_values.NotJson:
        return [fence(arguments)]
    if not isinstance(value, dict):
        return [fence(arguments, "json")]
    inline = {k: v for k, v in value.items() if not (isinstance(v, str) and "\n" in v)}
    parts = [fence(json.dumps(inline, ensure_ascii=False), "json")] if inline else []
    for key, text in value.items():
        if key not in inline:
            parts += [f"`{key}`:", fence(text)]
    return parts
