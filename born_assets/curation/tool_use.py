"""Tool-use structure of a conversation, measured on its `messages` and `tools`.

For each row: how many tool calls and results it holds, and how many break each rule (each a
gate reason of its own, decided by `curation.gates` against the policy):

* `undeclared_tool`: a call names a tool the row's `tools` does not declare (checked when it
  declares any; with `gates.tool_use.require_declared_tools`, a row that declares none fails
  every call);
* `tool_arguments_not_json`: a call's `arguments` do not parse as a JSON object;
* `tool_arguments_invalid`: the arguments do not validate against the declared tool's JSON
  Schema (`gates.tool_use.validate_arguments`; a declaration that is not a valid JSON Schema,
  such as `"type": "dict"`, or whose `$ref` leads nowhere or round in a circle, cannot judge and
  is not used; a `$ref` is resolved inside the declaration only, never fetched);
* `orphan_tool_result`: a tool result answers no call made before it;
* `unanswered_tool_call`: a call gets no result, and it is not in the conversation's last
  assistant message (a trace may end on the call it is waiting for).

Validators are compiled once per distinct schema text and kept for the evaluator's life.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError
from referencing import Registry
from referencing.exceptions import Unresolvable

from born_assets.text import json_values


@dataclass(frozen=True, slots=True)
class ToolUseMeasures:
    """The tool-use structure of one row."""

    calls: int = 0
    results: int = 0
    undeclared: int = 0
    not_json: int = 0
    invalid: int = 0
    orphans: int = 0
    unanswered: int = 0

    @property
    def uses_tools(self) -> bool:
        """The conversation holds a call or a result."""
        return bool(self.calls or self.results)


class ToolUseMeter:
    """Measures rows, keeping one compiled validator per schema text."""

    def __init__(self, require_declared_tools: bool, validate_arguments: bool) -> None:
        self._require_declared = require_declared_tools
        self._validate = validate_arguments
        self._validators: dict[str, Any] = {}

    def measure(
        self, messages: list[dict[str, Any]] | None, tools: list[dict[str, Any]] | None
    ) -> ToolUseMeasures:
        """The measures of one row's messages and tools (see the module docstring)."""
        messages = messages or []
        schemas = {tool["function"]["name"]: tool["function"]["parameters"] for tool in tools or []}
        last_assistant = max(
            (i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1
        )
        pending: dict[str, int] = {}
        counts = dict.fromkeys(("calls", "results", "undeclared", "not_json", "invalid"), 0)
        orphans = 0
        for index, message in enumerate(messages):
            if message["role"] == "tool":
                counts["results"] += 1
                call_id = message["tool_call_id"]
                if call_id in pending:
                    del pending[call_id]
                else:
                    orphans += 1
            for call in message["tool_calls"] or []:
                counts["calls"] += 1
                pending[call["id"]] = index
                self._judge(call["function"], schemas, counts)
        unanswered = sum(1 for index in pending.values() if index != last_assistant)
        return ToolUseMeasures(**counts, orphans=orphans, unanswered=unanswered)

    def _judge(
        self, function: dict[str, Any], schemas: dict[str, str | None], counts: dict[str, int]
    ) -> None:
        name = function["name"]
        if (schemas or self._require_declared) and name not in schemas:
            counts["undeclared"] += 1
        try:
            arguments = json_values.loads(function["arguments"] or "")
        except json_values.NotJson:
            arguments = None
        if not isinstance(arguments, dict):
            counts["not_json"] += 1
            return
        schema = schemas.get(name)
        if not (self._validate and schema):
            return
        validator = self._validator(schema)
        if validator is None:
            return
        try:
            valid = validator.is_valid(arguments)
        except (Unresolvable, RecursionError):  # the declaration cannot judge: not used
            self._validators[schema] = None
            return
        if not valid:
            counts["invalid"] += 1

    def _validator(self, schema_text: str) -> Any:
        if schema_text not in self._validators:
            self._validators[schema_text] = _compile(schema_text)
        return self._validators[schema_text]


def _compile(schema_text: str) -> Any:
    """A validator for a JSON Schema text, or None when it is not a valid schema."""
    try:
        schema = json_values.loads(schema_text)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except (json_values.NotJson, SchemaError, TypeError):
        return None
    return cls(schema, registry=_OFFLINE)


_OFFLINE: Registry[Any] = Registry()
"""Resolves a `$ref` inside the schema only and retrieves nothing (referencing's default): a
build never reaches the network for a URL its data names. Without a registry, jsonschema falls
back to fetching it."""
