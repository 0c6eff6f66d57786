"""Splitting a `.json` document into its records without loading it: element by element.

A `.json` file holds one JSON array of records (LLaMA-Factory, Alpaca and many exports ship this
way) or one JSON object (one record). `split_elements` reads the bytes in bounded chunks and
yields the raw bytes of each top-level array element in order, so each element is parsed, and if
need be refused, on its own, exactly like a line of a JSONL file: memory holds one element at a
time, never the document.

The scan only tracks what delimits elements: strings (with their escapes), nesting depth and the
commas between elements. It does not validate JSON; each element's bytes go to the same parser as
a JSONL line. What cannot be split is still yielded, so it ends in a recorded fate: a document
that is neither an array nor an object, an array cut short (the partial last element), and any
bytes after the closing bracket each come out as one more piece.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

_CHUNK_BYTES = 1 << 20
_STRUCTURAL = re.compile(rb'["\[\]{},]')
_WHITESPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"


class _Scanner:
    """The state of one split: where we are in the document and the element being collected."""

    def __init__(self) -> None:
        self.started = False  # the opening bracket (or a lone object) was seen
        self.is_array = False
        self.closed = False  # the array's closing bracket was seen
        self.depth = 0  # nesting inside the current element
        self.in_string = False
        self.escaped = False  # the previous byte inside a string was a lone backslash
        self.element = bytearray()

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """Consume one chunk; yield every element it completes."""
        position = 0
        while position < len(chunk):
            if self.closed:
                self.element += chunk[position:]
                return
            if not self.started:
                position = self._start(chunk, position)
                continue
            if self.in_string:
                position = self._string(chunk, position)
                continue
            match = _STRUCTURAL.search(chunk, position)
            end = match.start() if match else len(chunk)
            self.element += chunk[position:end]
            if match is None:
                return
            yield from self._structural(chunk[end : end + 1])
            position = end + 1

    def _start(self, chunk: bytes, position: int) -> int:
        while position < len(chunk) and chunk[position] in _WHITESPACE:
            position += 1
        if position == len(chunk):
            return position
        self.started = True
        if chunk[position : position + 1] == b"[":
            self.is_array = True
            return position + 1
        # A lone object (or anything else) is one element, up to the end of the document.
        self.closed = True
        return position

    def _string(self, chunk: bytes, position: int) -> int:
        index = position
        while index < len(chunk):
            byte = chunk[index]
            if self.escaped:
                self.escaped = False
            elif byte == 0x5C:  # backslash
                self.escaped = True
            elif byte == 0x22:  # quote
                self.in_string = False
                index += 1
                break
            index += 1
        self.element += chunk[position:index]
        return index

    def _structural(self, char: bytes) -> Iterator[bytes]:
        if char == b'"':
            self.in_string = True
            self.element += char
        elif char in (b"[", b"{"):
            self.depth += 1
            self.element += char
        elif char in (b"]", b"}") and self.depth > 0:
            self.depth -= 1
            self.element += char
        elif char == b"," and self.depth == 0:
            yield self._take()
        elif char == b"]":
            piece = self._take()
            if piece.strip(_WHITESPACE):
                yield piece
            self.closed = True
        else:  # a stray closing brace at the top level: keep it, the element will not parse
            self.element += char

    def _take(self) -> bytes:
        piece = bytes(self.element).strip(_WHITESPACE)
        self.element.clear()
        return piece

    def finish(self) -> Iterator[bytes]:
        """What is left at the end: a lone object, a cut element, or bytes after the array."""
        rest = self._take()
        if rest:
            yield rest


def split_elements(stream: BinaryIO) -> Iterator[bytes]:
    """Yield the raw bytes of each top-level element of a JSON array (or a lone object).

    A UTF-8 byte order mark at the start is skipped. An empty array yields nothing; an empty or
    blank document yields nothing.
    """
    scanner = _Scanner()
    first = True
    while chunk := stream.read(_CHUNK_BYTES):
        if first:
            chunk = chunk.removeprefix(_BOM)
            first = False
        yield from scanner.feed(chunk)
    yield from scanner.finish()
