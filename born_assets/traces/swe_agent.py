"""SWE-agent trajectory adapter: the `.traj` file's `history` chat messages.

`history` messages are OpenAI-style (`openai_chat.message_turn` maps them: `tool_calls` in the
function-calling runs, `role: tool` results). SWE-agent rules on top:

* a tool message's `tool_call_ids` (a list) gives the result its call id when it names one call;
* every user message after the first assistant message is an environment observation (the
  output of the agent's last command, `message_type: observation`): the model saw it as a user
  message, so it stays a user turn, but its text is a tool-result block (the output of the
  command the assistant's last message ran).

`thought` / `action` fields repeat what the assistant `content` already shows and are not read;
`trajectory` is the same run step by step and is not read either. The outcome is
`info.exit_status` and `info.submission` (the patch or answer the agent submitted), when present.
"""

from __future__ import annotations

from dataclasses import replace
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
)
from born_assets.traces.fields import (
    AdapterSpec,
    child,
    expect_dict,
    expect_list,
    get_field,
    optional_field,
)
from born_assets.traces.openai_chat import message_turn


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one SWE-agent `.traj` record (`messages_field` defaults to `history`).

    Raises:
        FormatMismatch: The record does not fit (path of the offending field).
    """
    path = spec.messages_field or "history"
    turns: list[Turn] = []
    after_assistant = False
    for index, message in enumerate(expect_list(get_field(record, path), path)):
        message = expect_dict(message, child(path, index))
        turn = message_turn(message, child(path, index))
        if turn.role is Role.TOOL:
            turn = _with_call_id(turn, message.get("tool_call_ids"))
        elif turn.role is Role.USER and after_assistant:
            turn = Turn(Role.USER, tuple(Block(BlockKind.TOOL_RESULT, b.text) for b in turn.blocks))
        after_assistant = after_assistant or turn.role is Role.ASSISTANT
        turns.append(turn)
    prompt, response = split_at_first_assistant(turns, path)
    return recorded_example(
        record,
        spec,
        (prompt, response),
        outcome=_outcome(record),
    )


def _outcome(record: dict[str, Any]) -> tuple[Outcome, ...]:
    found = []
    for key in ("exit_status", "submission"):
        value = optional_field(record, f"info.{key}")
        if isinstance(value, str) and value.strip():
            found.append(Outcome(key, value))
    return tuple(found)


def _with_call_id(turn: Turn, call_ids: Any) -> Turn:
    if not (isinstance(call_ids, list) and len(call_ids) == 1 and isinstance(call_ids[0], str)):
        return turn
    return Turn(turn.role, tuple(replace(block, call_id=call_ids[0]) for block in turn.blocks))
