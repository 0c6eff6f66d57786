"""Read a source record's fields; `FormatMismatch` names the field that does not fit.

Spec paths are dotted keys (`response.id`); error paths add list indexes (`messages[2].role`,
built with `child`). Each helper raises `FormatMismatch` at the offending path when a key is
missing or a value has the wrong type, so a quarantined row names its field. Every adapter reads
its records through these helpers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True, slots=True)
class AdapterSpec:
    """Where an adapter finds things in a record. Paths are dotted keys (`response.id`).

    Attributes:
        id_field: Path to the source's own row id; None when the source has none.
        prompt_field: Prompt path (`prompt_response`: text; `prompt_completion`: messages).
        response_field: Response text path (`prompt_response` only).
        messages_field: Path to the message list when it is not the format's usual one
            (`conversations` for ShareGPT, `messages` for OpenAI chat; `traj` for tau-bench).
        model_field: Path to the generating model name, overriding the format's usual place.
        timestamp_field: Path to the generation time (ISO string, or Unix seconds); a record
            without it has no recorded time.
        tools_field: Path to the tool declarations, overriding the format's usual place.
        system_field: Path to a system prompt kept beside the messages (LLaMA-Factory `system`).
        completion_field: Path to the completion messages (`prompt_completion` only).
        reward_field: Path to a reward or score the source recorded for the whole trace.
        options: The format's options, validated by its options model (see `registry`).
    """

    id_field: str | None = None
    prompt_field: str | None = None
    response_field: str | None = None
    messages_field: str | None = None
    model_field: str | None = None
    timestamp_field: str | None = None
    tools_field: str | None = None
    system_field: str | None = None
    completion_field: str | None = None
    reward_field: str | None = None
    options: Any = None


class Options(BaseModel):
    """Base of a format's options model: frozen, and an unknown key is an error, not a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FormatMismatch(Exception):
    """A record does not fit its declared format; `field` is the offending path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def child(path: str, key: str | int) -> str:
    """Return the path of `key` under `path` (`a.b`, `a[2]`)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def get_field(record: Any, path: str) -> Any:
    """Return the value at dotted `path`, raising `FormatMismatch` naming the first missing key."""
    value, walked = record, ""
    for key in path.split("."):
        walked = child(walked, key)
        if not isinstance(value, dict) or key not in value:
            raise FormatMismatch(walked, "missing")
        value = value[key]
    return value


def required(obj: dict[str, Any], key: str, path: str) -> Any:
    """Return `obj[key]`, raising `FormatMismatch` at `path.key` when it is missing."""
    if key not in obj:
        raise FormatMismatch(child(path, key), "missing")
    return obj[key]


def optional_field(record: Any, path: str) -> Any:
    """Return the value at dotted `path`, or None when any key on the way is missing."""
    value = record
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def expect_list(value: Any, path: str) -> list[Any]:
    """Return `value` if it is a list, else raise `FormatMismatch` at `path`."""
    if not isinstance(value, list):
        raise FormatMismatch(path, f"expected a list, got {_type_name(value)}")
    return value


def expect_dict(value: Any, path: str) -> dict[str, Any]:
    """Return `value` if it is an object, else raise `FormatMismatch` at `path`."""
    if not isinstance(value, dict):
        raise FormatMismatch(path, f"expected an object, got {_type_name(value)}")
    return value


def expect_str(value: Any, path: str) -> str:
    """Return `value` if it is a string, else raise `FormatMismatch` at `path`."""
    if not isinstance(value, str):
        raise FormatMismatch(path, f"expected a string, got {_type_name(value)}")
    return value


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def json_text(value: Any) -> str:
    """Serialize a structured value (tool input, tool output) as JSON, keeping key order."""
    return json.dumps(value, ensure_ascii=False)


def row_id(record: dict[str, Any], spec: AdapterSpec) -> str | None:
    """Read the source row id named by `spec.id_field` (a string or an integer)."""
    if spec.id_field is None:
        return None
    value = get_field(record, spec.id_field)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return expect_str(value, spec.id_field)


def model_name(record: dict[str, Any], spec: AdapterSpec, native: str | None) -> str | None:
    """Read the model name at `spec.model_field` (required there) or at the `native` path."""
    if spec.model_field is not None:
        return expect_str(get_field(record, spec.model_field), spec.model_field)
    if native is None or (value := optional_field(record, native)) is None:
        return None
    return expect_str(value, native)  # a model named by a number is a mistake, not no model


def timestamp(record: dict[str, Any], spec: AdapterSpec, native: str | None) -> str | None:
    """Read the generation time: a string is kept verbatim, Unix seconds become ISO 8601 UTC.

    The time is read at `spec.timestamp_field`, else at the format's `native` place; a record
    without one there has none (None).
    """
    path = spec.timestamp_field or native
    value = optional_field(record, path) if path else None
    if value is None or path is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC).isoformat()
        except (OverflowError, OSError, ValueError):
            raise FormatMismatch(
                path, f"{value!r} Unix seconds is no time in the years 1-9999"
            ) from None
    raise FormatMismatch(path, f"expected an ISO string or Unix seconds, got {_type_name(value)}")
