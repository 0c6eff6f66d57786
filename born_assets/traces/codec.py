"""A trace as canonical JSON, and back: how an import row carries its conversation to sanitization.

`encode_trace` writes `{"prompt": [turn...], "response": [turn...], "tools": [...], "outcome":
[...]}`, a turn being `{"role", "blocks": [{"kind", "text", "name"?, "call_id"?}]}`, with sorted
keys, compact separators and UTF-8 text, so the same trace is always the same bytes (the example
id hashes them). `decode_trace` accepts exactly that and nothing else: an unknown key, role or
block kind is a `FormatMismatch` naming its path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from born_assets.traces.conversation import Block, BlockKind, Outcome, Role, TraceExample, Turn
from born_assets.traces.fields import (
    FormatMismatch,
    child,
    expect_dict,
    expect_list,
    expect_str,
)
from born_assets.traces.tools import ToolSpec

_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class Trace:
    """What sanitization needs of a trace: its turns on both sides, tools and outcome."""

    prompt_turns: tuple[Turn, ...]
    response_turns: tuple[Turn, ...]
    tools: tuple[ToolSpec, ...] = ()
    outcome: tuple[Outcome, ...] = ()


def encode_trace(example: TraceExample | Trace) -> str:
    """The canonical JSON of a trace (see the module docstring)."""
    payload = {
        "prompt": _turns_payload(example.prompt_turns),
        "response": _turns_payload(example.response_turns),
        "tools": [_without_none(_tool_fields(tool)) for tool in example.tools],
        "outcome": [{"name": item.name, "value": item.value} for item in example.outcome],
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _tool_fields(tool: ToolSpec) -> dict[str, str | None]:
    return {"name": tool.name, "description": tool.description, "parameters": tool.parameters}


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _turns_payload(turns: Iterable[Turn]) -> list[dict[str, Any]]:
    return [
        {
            "role": turn.role.value,
            "blocks": [
                _without_none(
                    {"kind": b.kind.value, "text": b.text, "name": b.name, "call_id": b.call_id}
                )
                for b in turn.blocks
            ],
        }
        for turn in turns
    ]


def decode_trace(encoded: str) -> Trace:
    """Decode `encode_trace` output exactly; anything else raises `FormatMismatch`."""
    try:
        payload = json.loads(encoded)
    except json.JSONDecodeError as error:
        raise FormatMismatch("trace", f"not JSON: {error.msg}") from None
    payload = _exact_keys(payload, "trace", {"prompt", "response", "tools", "outcome"}, set())
    return Trace(
        prompt_turns=_turns(payload["prompt"], "prompt"),
        response_turns=_turns(payload["response"], "response"),
        tools=tuple(
            _tool(item, child("tools", i)) for i, item in enumerate(_list(payload, "tools"))
        ),
        outcome=tuple(
            _outcome(item, child("outcome", i)) for i, item in enumerate(_list(payload, "outcome"))
        ),
    )


def _list(payload: dict[str, Any], key: str) -> list[Any]:
    return expect_list(payload[key], key)


def _turns(items: Any, path: str) -> tuple[Turn, ...]:
    return tuple(_turn(item, child(path, i)) for i, item in enumerate(expect_list(items, path)))


def _turn(item: Any, path: str) -> Turn:
    item = _exact_keys(item, path, {"role", "blocks"}, set())
    role = _enum(Role, item["role"], child(path, "role"))
    blocks = expect_list(item["blocks"], child(path, "blocks"))
    return Turn(
        role,
        tuple(_block(b, child(child(path, "blocks"), i)) for i, b in enumerate(blocks)),
    )


def _block(item: Any, path: str) -> Block:
    item = _exact_keys(item, path, {"kind", "text"}, {"name", "call_id"})
    return Block(
        kind=_enum(BlockKind, item["kind"], child(path, "kind")),
        text=expect_str(item["text"], child(path, "text")),
        name=_optional_str(item, "name", path),
        call_id=_optional_str(item, "call_id", path),
    )


def _tool(item: Any, path: str) -> ToolSpec:
    item = _exact_keys(item, path, {"name"}, {"description", "parameters"})
    return ToolSpec(
        expect_str(item["name"], child(path, "name")),
        _optional_str(item, "description", path),
        _optional_str(item, "parameters", path),
    )


def _outcome(item: Any, path: str) -> Outcome:
    item = _exact_keys(item, path, {"name", "value"}, set())
    return Outcome(
        expect_str(item["name"], child(path, "name")),
        expect_str(item["value"], child(path, "value")),
    )


def _optional_str(item: dict[str, Any], key: str, path: str) -> str | None:
    value = item.get(key)
    return None if value is None else expect_str(value, child(path, key))


def _exact_keys(item: Any, path: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    item = expect_dict(item, path)
    for key in sorted(required - item.keys()):
        raise FormatMismatch(child(path, key), "missing")
    for key in sorted(item.keys() - required - optional):
        raise FormatMismatch(child(path, key), "unknown key")
    return item


def _enum(enum: type[_E], value: Any, path: str) -> _E:
    try:
        return enum(expect_str(value, path))
    except ValueError:
        known = ", ".join(member.value for member in enum)
        raise FormatMismatch(path, f"unknown value {value!r}; expected one of {known}") from None
