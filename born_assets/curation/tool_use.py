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
  is not used; a `$ref` is resolved inside the declaration only, never fetched; `pattern` and
  `patternProperties` match with RE2, in linear time, see `_search`);
* `orphan_tool_result`: a tool result answers no call made before it;
* `unanswered_tool_call`: a call gets no result, and it is not in the conversation's last
  assistant message (a trace may end on the call it is waiting for).

Validators are compiled once per distinct schema text and kept for the evaluator's life.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema
import pyarrow as pa
import pyarrow.compute as pc
from jsonschema.exceptions import SchemaError, ValidationError
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
        except (Unresolvable, RecursionError, _CannotJudge):  # the declaration is not used
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
    if _python_regex(schema):
        return None
    return _linear(cls)(schema, registry=_OFFLINE)


class _CannotJudge(Exception):
    """A declaration's regular expression that RE2 does not take (a backreference, a lookaround)."""


def _search(pattern: str, text: str) -> bool:
    """`pattern` found in `text`, by RE2 (Arrow's), in time linear in the text.

    jsonschema matches with Python's `re`, which backtracks: `^(a+)+$` against 40 `a`s and a `b`
    takes hours, so one call's arguments could hang the step for a whole build.
    """
    try:
        found = pc.match_substring_regex(pa.array([text], pa.string()), pattern=pattern)
    except pa.ArrowInvalid:
        raise _CannotJudge(pattern) from None
    return bool(found[0].as_py())


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


@cache
def _linear(cls: Any) -> Any:
    """`cls` with `pattern` and `patternProperties` matched by `_search`."""
    return jsonschema.validators.extend(
        cls, {"pattern": _pattern, "patternProperties": _pattern_properties}
    )


def _python_regex(schema: Any) -> bool:
    """True where jsonschema would still match with Python's `re`.

    That is `patternProperties` beside `additionalProperties` or `unevaluatedProperties`, which it
    checks against the patterns itself.
    """
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "patternProperties" in item and (
                "additionalProperties" in item or "unevaluatedProperties" in item
            ):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_OFFLINE: Registry[Any] = Registry()
"""Resolves a `$ref` inside the schema only and retrieves nothing (referencing's default): a
build never reaches the network for a URL its data names. Without a registry, jsonschema falls
back to fetching it."""
