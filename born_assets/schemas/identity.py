"""Identity of a row: the prompt hash, the stable example id, and UTC timestamps."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson


def sha256_hex(data: bytes) -> str:
    """SHA-256 of bytes as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def prompt_hash(prompt: str) -> str:
    """SHA-256 hex of the prompt's UTF-8 bytes exactly as sent to the teacher.

    No normalization of any kind: not whitespace, not Unicode form, not line endings. Two
    prompts that differ by one trailing newline were two different requests and hash apart.
    Raises `UnicodeEncodeError` for text that is not valid Unicode (a lone surrogate).
    """
    return sha256_hex(prompt.encode("utf-8"))


def response_sha256(response: str) -> str:
    """SHA-256 hex of a response's UTF-8 bytes: as sanitized, as shipped, as shown to a reviewer."""
    return sha256_hex(response.encode("utf-8"))


def example_id(
    origin_kind: str, origin_id: str, source_id: str, prompt_sha256: str, response: str
) -> str:
    """Stable id of an example: the same input row gets the same id on every run.

    Built from what the row is (its origin, task, prompt hash and response), never from where it
    sits (file name, line number), so reordering or re-splitting the input files keeps every id.
    """
    key = orjson.dumps(
        [origin_kind, origin_id, source_id, prompt_sha256, sha256_hex(response.encode("utf-8"))]
    )
    return "ex_" + sha256_hex(key)[:24]


def parse_utc_timestamp(value: str, assume_zone: str | None = None) -> datetime:
    """Parse an ISO 8601 timestamp, converted to UTC.

    A timestamp without a zone is ambiguous and rejected with `ValueError`, unless the caller
    states the zone such timestamps are in (`assume_zone`, an IANA name such as `UTC`). So is one
    that leaves the years 1-9999 once converted (`0001-01-01T00:00:00+01:00`).
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        if assume_zone is None:
            raise ValueError(f"timestamp {value!r} has no time zone; write it in UTC with a Z")
        parsed = parsed.replace(tzinfo=ZoneInfo(assume_zone))
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"timestamp {value!r} is outside the years 1-9999 in UTC") from None


def canonical_json(value: object) -> str:
    """Compact JSON with sorted keys: the stored form of every JSON-valued column."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
