"""Reading JSONL files line by line, turning every line into an object or a named refusal.

Lines are read as bytes from a buffered file, one at a time, so a file of any size (and a line of
any length) is read in bounded memory. Each line is decoded strictly as UTF-8 before JSON parsing,
so an encoding fault and a syntax fault are told apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from born_assets.ingest.quarantine import RejectedLine
from born_assets.schemas.vocabulary import QuarantineReason

_READ_BUFFER_BYTES = 1 << 20


class Hash(Protocol):
    """What `iter_lines` needs of a hash object (hashlib's)."""

    def update(self, data: bytes, /) -> None:
        """Feed bytes."""


@dataclass(frozen=True)
class RawLine:
    """One line of a file: its 1-based number and its bytes without the line ending."""

    number: int
    raw: bytes


def iter_lines(path: Path, digest: Hash | None = None) -> Iterator[RawLine]:
    """Every line of a file, numbered from 1; LF and CRLF line endings are removed.

    A final line without a newline is still a line; the empty string after a final newline is not.
    When `digest` is given it is fed every byte of the file, so the file is hashed in the same read.
    """
    with path.open("rb", buffering=_READ_BUFFER_BYTES) as handle:
        for number, line in enumerate(handle, start=1):
            if digest is not None:
                digest.update(line)
            yield RawLine(number, line.rstrip(b"\r\n") if line.endswith(b"\n") else line)


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
    if not isinstance(value, dict):
        raise RejectedLine(
            QuarantineReason.NOT_AN_OBJECT,
            None,
            f"a row must be a JSON object, got {type(value).__name__}",
        )
    return value


def lookup(record: dict[str, Any], dotted: str) -> Any:
    """Value at a dotted path (`a.b.0.c`), or raise `KeyError` naming the missing part."""
    value: Any = record
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(dotted)
    return value
