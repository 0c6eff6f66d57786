"""One record of a source file as bytes, and turning it into a JSON object or a named refusal.

Each record is decoded strictly as UTF-8 before JSON parsing, so an encoding fault and a syntax
fault are told apart. How files are cut into records is `readers`' job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from born_assets.ingest.quarantine import RejectedLine, Rejection
from born_assets.schemas.vocabulary import QuarantineReason
from born_assets.text import json_values


class Hash(Protocol):
    """What `iter_lines` needs of a hash object (hashlib's)."""

    def update(self, data: bytes, /) -> None:
        """Feed bytes."""


@dataclass(frozen=True)
class RawLine:
    """One record of a file: its 1-based number and its bytes (a line without its ending).

    `unreadable` is set instead when the file could not be read as records from here on (a file
    of an unsupported kind, a corrupt compressed stream): that record is refused for the reason
    given, and nothing follows it.
    """

    number: int
    raw: bytes
    unreadable: Rejection | None = None


def parse_object(raw: bytes) -> dict[str, Any]:
    """Decode one line to a JSON object, or raise `RejectedLine` with the reason."""
    if not raw.strip():
        raise RejectedLine(QuarantineReason.EMPTY_LINE, None, "the line is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RejectedLine(
            QuarantineReason.NOT_UTF8,
            None,
            f"not valid UTF-8 at byte {error.start} ({error.reason})",
        ) from error
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise RejectedLine(
            QuarantineReason.UNPARSEABLE_JSON, None, f"not valid JSON: {error}"
        ) from error
    if json_values.too_deep(value, text):  # the readers could not walk it (see json_values)
        raise RejectedLine(
            QuarantineReason.UNPARSEABLE_JSON,
            None,
            f"nested deeper than {json_values.MAX_DEPTH} levels of arrays and objects",
        )
    if not isinstance(value, dict):
        raise RejectedLine(
            QuarantineReason.NOT_AN_OBJECT,
            None,
            f"a row must be a JSON object, got {type(value).__name__}",
        )
    return value
