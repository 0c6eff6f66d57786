"""Format name -> adapter and its options, as import specs name them.

| name | record | options |
|---|---|---|
| `sharegpt` | `conversations` [{from, value}]: plain, Hermes, LLaMA-Factory | `role_key`, |
|   | (`tools`, `system`, `function_call` / `observation` turns) | `content_key`, `speakers` |
| `openai_chat` | an OpenAI message list (`messages`, tau-bench `traj`) and `tools` | - |
| `openai_chat_exchange` | `{request: chat body, response: chat.completion}` | - |
| `anthropic_messages` | `{request: /v1/messages body, response: Message}` | - |
| `prompt_response` | one prompt text and one response text | - |
| `prompt_completion` | `prompt` and `completion` message lists (TRL, RL frameworks) | - |
| `chat_template` | one rendered chat string (ChatML / Hermes, Llama 3) | `template` |
| `llamafactory_blocks` | LLaMA-Factory v1 `messages` with typed content blocks | - |
| `atropos_rollout` | one Atropos rollout | - |
| `scored_rollout_group` | an Atropos scored group: message lists per rollout, `scores` | `select` |
| `swe_agent_trajectory` | a SWE-agent `.traj` record (`history`) | - |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from born_assets.traces import (
    anthropic,
    atropos,
    chat_template,
    llamafactory,
    openai_chat,
    pairs,
    prompt_completion,
    sharegpt,
    swe_agent,
)
from born_assets.traces.conversation import Adapter
from born_assets.traces.fields import Options


@dataclass(frozen=True)
class TraceFormat:
    """One format: its adapter, and the model its `options` must fit (None: it takes none)."""

    adapt: Adapter
    options: type[Options] | None = None
    required_fields: tuple[str, ...] = ()
    """`AdapterSpec` fields a spec of this format must name (checked when the spec loads)."""


FORMATS: Mapping[str, TraceFormat] = MappingProxyType(
    {
        "sharegpt": TraceFormat(sharegpt.adapt, sharegpt.ShareGPTOptions),
        "openai_chat": TraceFormat(openai_chat.adapt),
        "openai_chat_exchange": TraceFormat(openai_chat.adapt_exchange),
        "anthropic_messages": TraceFormat(anthropic.adapt),
        "prompt_response": TraceFormat(
            pairs.adapt, required_fields=("prompt_field", "response_field")
        ),
        "prompt_completion": TraceFormat(prompt_completion.adapt),
        "chat_template": TraceFormat(chat_template.adapt, chat_template.ChatTemplateOptions),
        "llamafactory_blocks": TraceFormat(llamafactory.adapt),
        "atropos_rollout": TraceFormat(atropos.adapt),
        "scored_rollout_group": TraceFormat(atropos.adapt_group, atropos.RolloutGroupOptions),
        "swe_agent_trajectory": TraceFormat(swe_agent.adapt),
    }
)
"""Every known trace format."""


def get_format(name: str) -> TraceFormat:
    """Return format `name`.

    Raises:
        KeyError: `name` is not a known format; the message lists the known ones.
    """
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise KeyError(f"unknown trace format {name!r}; known formats: {known}") from None


def get_adapter(name: str) -> Adapter:
    """Return the adapter of format `name` (see `get_format`)."""
    return get_format(name).adapt
