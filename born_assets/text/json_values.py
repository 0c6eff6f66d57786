r"""JSON read from a record and from the texts inside it, strictly and to a bounded depth.

A source record is parsed with orjson, which refuses NaN and Infinity, lone surrogates (no UTF-8
file can hold one) and nesting deeper than 1,024 levels. Tool arguments, tool declarations and
tool calls written into a turn arrive as text inside a record and are parsed again with `loads`,
the same way: Python's `json` would accept `NaN` (and write it back, making an export that is not
JSON) and `"\ud800"` (a string no Parquet file or hash can take).

Every value is also refused deeper than `MAX_DEPTH` levels. Deeper values are no data anyone
trains on, and the readers walk a value recursively: Python's JSON encoder and a walk of their
own both stop with `RecursionError` near 1,000 levels, less the stack already in use.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

MAX_DEPTH = 200
"""Levels of nested arrays and objects a value may have (a scalar has none)."""


class NotJson(json.JSONDecodeError):
    """A text that is not strict JSON, or nests deeper than `MAX_DEPTH`; `msg` says which."""


def loads(text: str) -> Any:
    """The JSON value of `text`, strictly (see the module), or raise `NotJson`."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise NotJson(error.msg, error.doc, error.pos) from None
    if too_deep(value, text):
        raise NotJson(f"nested deeper than {MAX_DEPTH} levels", text, 0)
    return value


def values(body: str) -> list[Any] | None:
    """JSON values written one after another in `body`, or None if it is not only strict JSON.

    Values may be separated by white space and commas (Hermes writes one object per line).
    """
    decoder = json.JSONDecoder()
    found: list[Any] = []
    position = 0
    while position < len(body):
        try:
            _, end = decoder.raw_decode(body, position)  # where the value ends
            found.append(loads(body[position:end]))
        except (json.JSONDecodeError, RecursionError):
            return None
        position = end
        while position < len(body) and body[position] in " \t\r\n,":
            position += 1
    return found


def too_deep(value: Any, text: str) -> bool:
    """True when `value`, parsed from `text`, nests deeper than `MAX_DEPTH` levels.

    A text with at most `MAX_DEPTH` opening brackets cannot: they are counted at C speed, and
    the value is walked only otherwise (a record full of code, say).
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False
