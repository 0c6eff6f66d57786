"""Atropos rollout adapter: Hermes-XML agent rollouts from a scored group.

An Atropos record is a scored group: `messages` holds one message list per rollout. `rollouts`
splits a group into one record per rollout (`messages`, `rollout_index`, `score`, `seed`); `adapt`
reads one such rollout record, so every rollout becomes its own example. A group passed to `adapt`
directly is a mismatch, not a guess at which rollout was meant.

Roles: `system`; `environment` is the user before the first agent turn and a tool result after
it (the environment's answer to the agent's move); `agent` is the assistant, whose text keeps
inline `<think>` for the sanitizer and whose `<tool_call>{json}</tool_call>` become tool calls.
"""

from __future__ import annotations

from typing import Any

from born_assets.traces.conversation import (
    Block,
    BlockKind,
    Role,
    TraceExample,
    Turn,
    split_at_first_assistant,
)
from born_assets.traces.fields import (
    AdapterSpec,
    FormatMismatch,
    child,
    expect_dict,
    expect_list,
    expect_str,
    get_field,
    model_name,
    required,
    row_id,
    timestamp,
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


def rollouts(group: dict[str, Any]) -> list[dict[str, Any]]:
    """Split a scored group into one record per rollout, keeping its score and the group seed.

    Raises:
        FormatMismatch: `messages` is not a list of rollouts.
    """
    groups = expect_list(get_field(group, "messages"), "messages")
    scores = group.get("scores")
    return [
        {
            "messages": expect_list(rollout, child("messages", index)),
            "rollout_index": index,
            "score": scores[index] if isinstance(scores, list) and index < len(scores) else None,
            "seed": group.get("seed"),
        }
        for index, rollout in enumerate(groups)
    ]


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one rollout record from `rollouts` (`messages_field` defaults to `messages`).

    Raises:
        FormatMismatch: The record does not fit (path of the offending field).
    """
    path = spec.messages_field or "messages"
    turns: list[Turn] = []
    after_agent = False
    for index, message in enumerate(expect_list(get_field(record, path), path)):
        turns.append(_turn(message, child(path, index), after_agent))
        after_agent = after_agent or turns[-1].role is Role.ASSISTANT
    prompt, response = split_at_first_assistant(turns, path)
    return TraceExample(
        prompt_turns=prompt,
        response_turns=response,
        source_row_id=row_id(record, spec),
        model=model_name(record, spec, None),
        timestamp=timestamp(record, spec, None),
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
