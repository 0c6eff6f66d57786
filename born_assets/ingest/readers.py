"""Reading a source's files as records: JSONL (plain, gzip, zstd) and JSON documents.

Every file under a source's path is one of the `FileKind`s, chosen by the ending of its name, or
it is refused: never skipped in silence. Records come out as `RawLine`s (a 1-based number and the
raw bytes):

* `.jsonl`, `.jsonl.gz`, `.jsonl.zst`: one record per line (LF or CRLF), decompressed as a stream;
  the number is the line number.
* `.json`: one array of records, split element by element (`json_array`), or one object (one
  record); the number is the element's position in the array.

A UTF-8 byte order mark at the start of a file is not part of its first record. Reads are
buffered and bounded: a file of any size is read in flat memory. The digest, when given, is fed
the file's bytes as stored (compressed bytes for a compressed file), in the same pass.

What cannot be read still ends in a record, so that it gets a fate: a file of another kind is one
record refused as `unsupported_file`; a compressed stream that breaks (corrupt, cut short) ends
with one record refused as `unreadable_file` after every record read before the break (each
byte the decompressor can yield before it, see `_Decompressed`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from born_assets.ingest.json_array import split_elements
from born_assets.ingest.jsonl import Hash, RawLine
from born_assets.ingest.quarantine import Rejection
from born_assets.schemas.vocabulary import QuarantineReason

_READ_BUFFER_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"


class FileKind(StrEnum):
    """The file types a source may hold, by the ending of the file name."""

    JSONL = ".jsonl"
    JSONL_GZIP = ".jsonl.gz"
    JSONL_ZSTD = ".jsonl.zst"
    JSON = ".json"


_COMPRESSION = {FileKind.JSONL_GZIP: "gzip", FileKind.JSONL_ZSTD: "zstd"}
SUPPORTED_ENDINGS = tuple(kind.value for kind in FileKind)
"""The file name endings a source may hold."""


def file_kind(path: Path) -> FileKind | None:
    """The kind of a source file by its name (case-insensitive), or None when it is not one."""
    name = path.name.lower()
    for kind in sorted(FileKind, key=lambda k: -len(k.value)):
        if name.endswith(kind.value):
            return kind
    return None


class _Hashing(io.RawIOBase):
    """A raw binary reader that feeds every byte it reads to a digest.

    Closing it leaves the file open: the decompressor closes its source when it is dropped, and
    the rest of the file must still be read for the digest.
    """

    def __init__(self, handle: BinaryIO, digest: Hash | None) -> None:
        self._handle = handle
        self._digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._handle.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        if self._digest is not None and size:
            self._digest.update(data)
        return size


class _Unclosed(io.RawIOBase):
    """A view of a raw reader that a decompressor may close without closing the reader."""

    def __init__(self, inner: io.RawIOBase) -> None:
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._inner.readinto(buffer) or 0


def iter_records(path: Path, digest: Hash | None = None) -> Iterator[RawLine]:
    """Every record of a file, numbered from 1 (see the module docstring)."""
    kind = file_kind(path)
    with path.open("rb") as handle:
        hashing = _Hashing(handle, digest)
        if kind is None:
            yield RawLine(1, hashing.read(_READ_BUFFER_BYTES) or b"", _unsupported(path))
        else:
            yield from _records(
                io.BufferedReader(_Unclosed(hashing), _READ_BUFFER_BYTES), kind, path
            )
        while hashing.read(_READ_BUFFER_BYTES):  # the digest covers the whole file
            pass


def _records(raw: BinaryIO, kind: FileKind, path: Path) -> Iterator[RawLine]:
    compression = _COMPRESSION.get(kind)
    if compression is None:
        yield from _split(raw, kind)
        return
    decompressed = _Decompressed(raw, lambda: path.open("rb"), compression)
    number = 0
    try:
        for record in _split(io.BufferedReader(decompressed, _READ_BUFFER_BYTES), kind):
            number = record.number
            yield record
    except OSError as error:
        message = f"the {compression} stream breaks after record {number}: {error}"
        yield RawLine(number + 1, b"", Rejection(QuarantineReason.UNREADABLE_FILE, None, message))


class _Decompressed(io.RawIOBase):
    """The decompressed bytes of a stream, up to the last byte before it breaks.

    Arrow's decompressing stream drops all of a read when the stream breaks inside it (a cut or
    corrupt file): read 1 MiB at a time, a `.jsonl.gz` cut in half lost up to 1 MiB of good lines,
    which then had no fate. So when a read fails, the file is decompressed again from its start
    (`reopen`, not fed to the digest) and the bytes of that read taken in ever smaller reads, the
    last of one byte each, up to the break; the error is raised by the read after them.
    """

    _SALVAGE_READS = (4096, 1)

    def __init__(self, raw: BinaryIO, reopen: Callable[[], BinaryIO], compression: str) -> None:
        self._compression = compression
        self._reopen = reopen
        self._stream = self._decompressing(raw)
        self._position = 0  # decompressed bytes handed out
        self._broken: OSError | None = None

    def _decompressing(self, raw: BinaryIO) -> pa.CompressedInputStream:
        return pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), self._compression)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._broken is not None:
            raise self._broken
        try:
            data = self._stream.read(len(buffer))
        except OSError as error:
            self._broken = error
            data = self._salvage(len(buffer))
            if not data:
                raise
        size = len(data)
        buffer[:size] = data
        self._position += size
        return size

    def _salvage(self, wanted: int) -> bytes:
        """Up to `wanted` bytes after the ones handed out, as far as the stream can be read."""
        salvaged = bytearray()
        for step in self._SALVAGE_READS:
            with self._reopen() as raw:
                stream = self._decompressing(raw)
                _skip(stream, self._position + len(salvaged))
                try:
                    while len(salvaged) < wanted:
                        data = stream.read(min(step, wanted - len(salvaged)))
                        if not data:
                            return bytes(salvaged)
                        salvaged += data
                except OSError:
                    continue  # this step's last read broke: take it again in smaller reads
            break  # `wanted` bytes read again without a break
        return bytes(salvaged)


def _skip(stream: pa.CompressedInputStream, size: int) -> None:
    while size > 0 and (data := stream.read(min(size, _READ_BUFFER_BYTES))):
        size -= len(data)


def _split(stream: BinaryIO, kind: FileKind) -> Iterator[RawLine]:
    if kind is FileKind.JSON:
        for number, element in enumerate(split_elements(stream), start=1):
            yield RawLine(number, element)
        return
    for number, line in enumerate(stream, start=1):
        if number == 1:
            line = line.removeprefix(_BOM)
        yield RawLine(number, line.rstrip(b"\r\n") if line.endswith(b"\n") else line)


def _unsupported(path: Path) -> Rejection:
    return Rejection(
        QuarantineReason.UNSUPPORTED_FILE,
        None,
        f"{path.name!r} is not a trace file this ingest reads ({', '.join(SUPPORTED_ENDINGS)}); "
        "the file was not read (move it out of the source's path, or narrow `files.glob`)",
    )
