"""Format name -> adapter, as import specs and lane manifests name them.

| name | record |
|---|---|
| `sharegpt` | `conversations` [{from, value}]: plain, Hermes, function_call/observation |
| `openai_chat` | an OpenAI message list (`messages`; tau-bench: `messages_field="traj"`) |
| `openai_chat_exchange` | `{request: chat body, response: chat.completion}` |
| `anthropic_messages` | `{request: /v1/messages body, response: Message}` |
| `prompt_response` | one prompt column and one response column (`prompt_field`, `response_field`) |
| `llamafactory_blocks` | LLaMA-Factory v1 `messages` with typed content blocks |
| `atropos_rollout` | one Atropos rollout (split a scored group with `atropos.rollouts` first) |
| `swe_agent_trajectory` | a SWE-agent `.traj` record (`history`) |
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from born_assets.traces import (
    anthropic,
    atropos,
    llamafactory,
    openai_chat,
    pairs,
    sharegpt,
    swe_agent,
)
from born_assets.traces.conversation import Adapter

FORMATS: Mapping[str, Adapter] = MappingProxyType(
    {
        "sharegpt": sharegpt.adapt,
        "openai_chat": openai_chat.adapt,
        "openai_chat_exchange": openai_chat.adapt_exchange,
        "anthropic_messages": anthropic.adapt,
        "prompt_response": pairs.adapt,
        "llamafactory_blocks": llamafactory.adapt,
        "atropos_rollout": atropos.adapt,
        "swe_agent_trajectory": swe_agent.adapt,
    }
)
"""Every known trace format and its adapter."""


def get_adapter(name: str) -> Adapter:
    """Return the adapter for format `name`.

    Raises:
        KeyError: `name` is not a known format; the message lists the known ones.
    """
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise KeyError(f"unknown trace format {name!r}; known formats: {known}") from None
