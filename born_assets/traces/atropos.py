"""Atropos adapters: one Hermes-XML rollout, or a scored group of rollouts on one line.

An Atropos `ScoredDataGroup` (what `process` mode and the trainer API write, one per line) holds
`messages`, one message list per rollout of the same prompt, and `scores`, one number per rollout
(plus `tokens`, `masks`, ... that this adapter does not read). A line is one input record with one
fate, so the group adapter (`scored_rollout_group`) makes one example of the rollout its spec's
`options.select` names: `best_score` (the highest score; the first of equal ones) or `first`.
Its outcome records that rollout's `score`, its index and every score of the group. `messages`
and `scores` of different lengths, a missing or non-numeric score, or an empty group is a
`FormatMismatch` naming the field. `atropos_rollout` reads a record that already holds one rollout
(`messages` = one message list, optional `score`).

Roles: `system`; `environment` is the user before the first agent turn and a tool result after
it (the environment's answer to the agent's move); `agent` is the assistant, whose text keeps
inline `<think>` for the sanitizer and whose `<tool_call>{json}</tool_call>` become tool calls.
The tools are the JSON inside `<tools>...</tools>` of the system prompt.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from born_assets.traces.conversation import (
    Block,
    BlockKind,
    Outcome,
    Role,
    TraceExample,
    Turn,
    recorded_example,
    split_at_first_assistant,
    system_prompt_tools,
)
from born_assets.traces.fields import (
    AdapterSpec,
    FormatMismatch,
    Options,
    child,
    expect_dict,
    expect_list,
    expect_str,
    get_field,
    optional_field,
    required,
)
from born_assets.traces.sharegpt import split_tool_call_tags

ROLES: dict[str, Role] = {
    "system": Role.SYSTEM,
    "environment": Role.USER,
    "user": Role.USER,
    "agent": Role.ASSISTANT,
    "assistant": Role.ASSISTANT,
    "tool": Role.TOOL,
}
"""Atropos roles and their neutral roles (`environment` after the first agent turn: tool)."""


class Selection(StrEnum):
    """Which rollout of a group becomes the example."""

    BEST_SCORE = "best_score"
    FIRST = "first"


class RolloutGroupOptions(Options):
    """`options` of the `scored_rollout_group` format."""

    select: Selection


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one rollout record (`messages_field` defaults to `messages`; `score` is its outcome).

    Raises:
        FormatMismatch: The record does not fit (path of the offending field).
    """
    path = spec.messages_field or "messages"
    score = optional_field(record, "score")
    outcome = () if score is None else (Outcome("score", str(_number(score, "score"))),)
    return _example(record, spec, get_field(record, path), path, outcome)


def adapt_group(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt a scored group: the rollout `options.select` names (see the module docstring).

    Raises:
        ValueError: The spec names no selection (a configuration error, not a row error).
        FormatMismatch: The group does not fit (path of the offending field).
    """
    if not isinstance(spec.options, RolloutGroupOptions):
        raise ValueError("scored_rollout_group needs options.select (best_score or first)")
    path = spec.messages_field or "messages"
    rollouts = expect_list(get_field(record, path), path)
    scores = [
        _number(value, child("scores", i))
        for i, value in enumerate(expect_list(get_field(record, "scores"), "scores"))
    ]
    if not rollouts:
        raise FormatMismatch(path, "the group holds no rollout")
    if len(scores) != len(rollouts):
        raise FormatMismatch("scores", f"{len(scores)} scores for {len(rollouts)} rollouts")
    chosen = 0
    if spec.options.select is Selection.BEST_SCORE:
        chosen = max(range(len(scores)), key=lambda i: (scores[i], -i))
    outcome = (
        Outcome("score", str(scores[chosen])),
        Outcome("rollout", f"{chosen} of {len(rollouts)} ({spec.options.select.value})"),
        Outcome("group_scores", ", ".join(str(score) for score in scores)),
    )
    return _example(record, spec, rollouts[chosen], child(path, chosen), outcome)


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormatMismatch(path, f"expected a number, got {type(value).__name__}")
    return float(value)


def _example(
    record: dict[str, Any],
    spec: AdapterSpec,
    messages: Any,
    path: str,
    outcome: tuple[Outcome, ...],
) -> TraceExample:
    turns: list[Turn] = []
    after_agent = False
    for index, message in enumerate(expect_list(messages, path)):
        turns.append(_turn(message, child(path, index), after_agent))
        after_agent = after_agent or turns[-1].role is Role.ASSISTANT
    prompt, response = split_at_first_assistant(turns, path)
    return recorded_example(
        record,
        spec,
        (prompt, response),
        tools=system_prompt_tools(prompt, path),
        outcome=outcome,
    )


def _turn(message: Any, path: str, after_agent: bool) -> Turn:
    message = expect_dict(message, path)
    role_path = child(path, "role")
    role_name = expect_str(required(message, "role", path), role_path)
    role = ROLES.get(role_name)
    if role is None:
        known = ", ".join(ROLES)
        raise FormatMismatch(role_path, f"unknown role {role_name!r}; known: {known}")
    content = expect_str(required(message, "content", path), child(path, "content"))
    if role is Role.ASSISTANT:
        return Turn(role, split_tool_call_tags(content))
    if role is Role.TOOL or (role_name == "environment" and after_agent):
        return Turn(Role.TOOL, (Block(BlockKind.TOOL_RESULT, content),))
    return Turn(role, (Block(BlockKind.TEXT, content),))
