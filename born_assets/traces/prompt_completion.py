"""Prompt/completion adapter: the prompt and the completion as two message lists.

TRL's conversational prompt-completion layout (`{"prompt": [messages], "completion": [messages]}`)
and the rollouts RL and eval frameworks write (verifiers, prime-rl: the same two lists plus a
`reward`, `answer`, `info`...) keep what the model was given apart from what it produced. The
prompt is every message of `prompt` (few-shot assistant turns included); the response is every
message of `completion`, which must hold an assistant turn. Either list may also be a plain
string (TRL's standard prompt-completion): the prompt is then one user turn, the completion one
assistant turn. Messages are OpenAI chat messages (`openai_chat.message_turns`: tool calls with
JSON-string arguments, parallel calls, tool results with their call ids). The tools are the
record's `tools`; a reward is read at `spec.reward_field` when given.
"""

from __future__ import annotations

from typing import Any

from born_assets.traces.conversation import (
    Block,
    BlockKind,
    Role,
    TraceExample,
    Turn,
    recorded_example,
)
from born_assets.traces.fields import (
    AdapterSpec,
    FormatMismatch,
    get_field,
)
from born_assets.traces.openai_chat import message_turns
from born_assets.traces.tools import declared_tools


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one prompt/completion record.

    Args:
        record: The parsed JSON line.
        spec: `prompt_field` (default `prompt`), `completion_field` (default `completion`),
            optional `id_field`, `model_field`, `timestamp_field`, `tools_field`, `reward_field`.

    Returns:
        The example: prompt = the prompt messages, response = the completion messages.

    Raises:
        FormatMismatch: A list is missing or not messages, or the completion has no assistant turn.
    """
    prompt_path = spec.prompt_field or "prompt"
    completion_path = spec.completion_field or "completion"
    prompt = _turns(get_field(record, prompt_path), prompt_path, Role.USER)
    completion = _turns(get_field(record, completion_path), completion_path, Role.ASSISTANT)
    if not any(turn.role is Role.ASSISTANT for turn in completion):
        raise FormatMismatch(completion_path, "the completion holds no assistant message")
    return recorded_example(
        record,
        spec,
        (prompt, completion),
        model_at="model",
        tools=declared_tools(record, spec, "tools"),
    )


def _turns(value: Any, path: str, role: Role) -> tuple[Turn, ...]:
    if isinstance(value, str):
        return (Turn(role, (Block(BlockKind.TEXT, value),)),)
    return message_turns(value, path)
