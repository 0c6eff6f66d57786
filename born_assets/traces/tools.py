"""The function schemas a teacher was given (`ToolSpec`), read from wherever a format keeps them.

Forms read, each as its producer documents it:

* OpenAI `tools`: `[{"type": "function", "function": {name, description, parameters}}]`
  (chat completions request bodies, TRL / OpenAI fine-tuning rows);
* a flat list `[{name, description, parameters}]` (glaive, LLaMA-Factory `tools`, legacy OpenAI
  `functions`), and Anthropic `[{name, description, input_schema}]`;
* any of those as a JSON string (LLaMA-Factory stores `tools` as text);
* a provider's built-in tool declared by its `type` alone (`{"type": "openrouter:web_search",
  "parameters": {...settings}}`): named by its type, with no schema;
* Hermes / ChatML system prompts: the JSON inside `<tools>...</tools>` (one array, or one object
  per line).

A declaration that is not one of these is a `FormatMismatch` at its path (never guessed at). Only
`parameters` is kept as JSON text, verbatim in meaning (keys in source order), so one Parquet type
holds every schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from born_assets.text import json_values
from born_assets.traces.fields import (
    AdapterSpec,
    FormatMismatch,
    child,
    expect_dict,
    expect_list,
    expect_str,
    json_text,
    optional_field,
)

_TOOLS_OPEN, _TOOLS_CLOSE = "<tools>", "</tools>"


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One function the teacher could call.

    Attributes:
        name: The function name calls refer to.
        description: What it does, as declared (None when not given).
        parameters: Its parameters' JSON Schema as JSON text (None when not given).
    """

    name: str
    description: str | None = None
    parameters: str | None = None


def parse_tools(value: Any, path: str) -> tuple[ToolSpec, ...]:
    """Read a tool list in any of the module's forms (None or an empty list: no tools)."""
    if value is None:
        return ()
    if isinstance(value, str):
        if not value.strip():
            return ()
        try:
            value = json_values.loads(value)
        except json_values.NotJson as error:
            raise FormatMismatch(path, f"tools is not JSON: {error.msg}") from None
    items = expect_list(value, path)
    return tuple(
        _tool(expect_dict(item, child(path, i)), child(path, i)) for i, item in enumerate(items)
    )


def _tool(item: dict[str, Any], path: str) -> ToolSpec:
    if "function" in item and isinstance(item["function"], dict):
        kind = item.get("type", "function")
        if kind != "function":
            raise FormatMismatch(child(path, "type"), f"unknown tool type {kind!r}")
        return _function(item["function"], child(path, "function"))
    kind = item.get("type")
    if "name" not in item and isinstance(kind, str) and kind != "function":
        return ToolSpec(kind)  # a provider's built-in tool, declared by its type only
    return _function(item, path)


def _function(function: dict[str, Any], path: str) -> ToolSpec:
    if "name" not in function:
        raise FormatMismatch(child(path, "name"), "missing")
    name = expect_str(function["name"], child(path, "name"))
    description = function.get("description")
    if description is not None:
        description = expect_str(description, child(path, "description"))
    schema = function.get("parameters", function.get("input_schema"))
    if schema is not None:
        key = "parameters" if "parameters" in function else "input_schema"
        schema = json_text(expect_dict(schema, child(path, key)))
    return ToolSpec(name, description or None, schema)


def declared_tools(
    record: dict[str, Any], spec: AdapterSpec, native: str | None
) -> tuple[ToolSpec, ...]:
    """The tools a record declares at `spec.tools_field`, else at the format's `native` place."""
    path = spec.tools_field or native
    if path is None:
        return ()
    return parse_tools(optional_field(record, path), path)


def tools_in_text(text: str, path: str) -> tuple[ToolSpec, ...]:
    """The tools a Hermes-style prompt declares inside `<tools>...</tools>` (none when absent).

    The body is one JSON array, or JSON objects one after another (Hermes 2 Pro writes one per
    line). A body that is not JSON (a prompt that only *mentions* the tags) declares nothing.
    """
    found: list[ToolSpec] = []
    start = text.find(_TOOLS_OPEN)
    while start >= 0:
        end = text.find(_TOOLS_CLOSE, start)
        if end < 0:
            break
        body = text[start + len(_TOOLS_OPEN) : end].strip()
        values = json_values.values(body)
        if values is not None:
            listed = values[0] if len(values) == 1 and isinstance(values[0], list) else values
            found.extend(parse_tools(listed, path))
        start = text.find(_TOOLS_OPEN, end)
    return tuple(found)


def tools_payload(tools: tuple[ToolSpec, ...]) -> list[dict[str, Any]]:
    """Tools as the OpenAI / TRL `tools` list, `parameters` kept as JSON text."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in tools
    ]
