"""Parquet files written row group by row group, where a group may be copied from another file.

An incremental build carries most of a table's rows unchanged from its last output. Decoding
them and encoding them again cost the `sanitized` step 7.8 of its 10 s on the main thread when a
file was added to one lane of the 100k bench (docs/performance.md). A Parquet file is its row
groups' column chunks, one after another, then a footer (Thrift compact protocol) saying where
each chunk starts; a chunk's pages hold no file position. So a row group can be copied as bytes
into another file with the same schema once the footer's offsets are moved by the distance the
group travelled.

`GroupWriter` writes a file this way: a group is either encoded by pyarrow (alone, in memory,
then appended) or copied from another file (`ParquetGroups`). Its footer is the one pyarrow
writes for the schema, with the groups in the order they came. The file has the bytes pyarrow's
own `ParquetWriter` gives the same rows in the same groups with the same options: the tests
compare SHA-256s. Only what pyarrow writes by default is handled: a footer with page indexes,
bloom filters or encryption is refused, never copied wrong.
"""

from __future__ import annotations

import gc
import struct as bytes_struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

_MAGIC = b"PAR1"
# Thrift compact protocol types.
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(
    13
)

# Field ids of parquet.thrift used here.
_FILE_NUM_ROWS, _FILE_ROW_GROUPS = 3, 4
_FILE_ENCRYPTION = (8, 9)  # encryption_algorithm, footer_signing_key_metadata
_GROUP_COLUMNS, _GROUP_NUM_ROWS, _GROUP_FILE_OFFSET, _GROUP_ORDINAL = 1, 3, 5, 7
_CHUNK_FILE_PATH, _CHUNK_FILE_OFFSET, _CHUNK_META = 1, 2, 3
_CHUNK_ELSEWHERE = (4, 6, 8, 9)  # offset index, column index, crypto metadata, encrypted meta
_META_COMPRESSED, _META_DATA_PAGE, _META_INDEX_PAGE, _META_DICT_PAGE = 7, 9, 10, 11
_META_BLOOM = 14


@dataclass(slots=True)
class _Field:
    id: int
    type: int
    value: Any


@dataclass(slots=True)
class _Struct:
    """A Thrift struct as it was read: its fields in order, so it encodes to the same bytes."""

    fields: list[_Field]

    def get(self, field_id: int) -> Any:
        return next((f.value for f in self.fields if f.id == field_id), None)

    def has(self, field_id: int) -> bool:
        return any(f.id == field_id for f in self.fields)

    def set(self, field_id: int, value: Any) -> None:
        next(f for f in self.fields if f.id == field_id).value = value


@dataclass(slots=True)
class _List:
    element_type: int
    values: list[Any]


@dataclass
class _Raw:
    """A value already encoded (a row group moved into place)."""

    data: bytes


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cyclic collector held off while a footer is decoded (it makes no cycle).

    Decoding makes an object per Thrift field, and every few hundred new objects start a
    collection that walks the process's objects: in a process with the definitions loaded, the
    100k bench's sanitized table's 1 MB footer took 0.34 s to read that way and 0.16 s without.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Decoder:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def byte(self) -> int:
        value = self.data[self.at]
        self.at += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        value = self.varint()
        return (value >> 1) ^ -(value & 1)

    def value(self, kind: int, in_list: bool = False) -> Any:
        if kind in (_TRUE, _FALSE):
            return self.byte() == _TRUE if in_list else kind == _TRUE
        if kind == _BYTE:
            return bytes_struct.unpack("b", bytes([self.byte()]))[0]
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            self.at += 8
            return self.data[self.at - 8 : self.at]
        if kind == _BINARY:
            size = self.varint()
            self.at += size
            return self.data[self.at - size : self.at]
        if kind in (_LIST, _SET):
            header = self.byte()
            size, element = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            return _List(element, [self.value(element, in_list=True) for _ in range(size)])
        if kind == _STRUCT:
            return self.struct()
        raise ValueError(f"Parquet footer: Thrift type {kind} is not used by Parquet")

    def struct(self) -> _Struct:
        fields: list[_Field] = []
        last = 0
        while True:
            header = self.byte()
            kind = header & 0x0F
            if kind == _STOP:
                return _Struct(fields)
            delta = header >> 4
            last = last + delta if delta else self.zigzag()
            fields.append(_Field(last, kind, self.value(kind)))


class _Encoder:
    def __init__(self) -> None:
        self.out = bytearray()

    def varint(self, value: int) -> None:
        while value > 0x7F:
            self.out.append((value & 0x7F) | 0x80)
            value >>= 7
        self.out.append(value)

    def zigzag(self, value: int) -> None:
        self.varint((value << 1) ^ (value >> 63))

    def value(self, kind: int, value: Any, in_list: bool = False) -> None:
        if kind in (_TRUE, _FALSE):
            if in_list:
                self.out.append(_TRUE if value else _FALSE)
        elif kind == _BYTE:
            self.out += bytes_struct.pack("b", value)
        elif kind in (_I16, _I32, _I64):
            self.zigzag(value)
        elif kind in (_DOUBLE, _BINARY):
            if kind == _BINARY:
                self.varint(len(value))
            self.out += value
        elif kind in (_LIST, _SET):
            self.list(value)
        elif isinstance(value, _Raw):
            self.out += value.data
        else:
            self.struct(value)

    def list(self, value: _List) -> None:
        size = len(value.values)
        self.out.append((min(size, 15) << 4) | value.element_type)
        if size >= 15:
            self.varint(size)
        for item in value.values:
            self.value(value.element_type, item, in_list=True)

    def struct(self, value: _Struct) -> None:
        last = 0
        for field in value.fields:
            kind = field.type
            if kind in (_TRUE, _FALSE):
                kind = _TRUE if field.value else _FALSE
            delta = field.id - last
            if 0 < delta <= 15:
                self.out.append((delta << 4) | kind)
            else:
                self.out.append(kind)
                self.zigzag(field.id)
            self.value(kind, field.value)
            last = field.id
        self.out.append(_STOP)


def _encode(value: _Struct) -> bytes:
    encoder = _Encoder()
    encoder.struct(value)
    return bytes(encoder.out)


def _footer(data: bytes | BinaryIO, where: str) -> tuple[_Struct, int]:
    """The decoded footer of a whole Parquet file, and where its footer starts."""
    if isinstance(data, bytes):
        size = len(data)
        tail = data[-8:]
    else:
        size = data.seek(0, 2)
        data.seek(size - 8)
        tail = data.read(8)
    length = int.from_bytes(tail[:4], "little")
    start = size - 8 - length
    if tail[4:] != _MAGIC or start < 4:
        raise ValueError(f"{where}: not a whole Parquet file")
    if isinstance(data, bytes):
        raw = data[start : start + length]
    else:
        data.seek(start)
        raw = data.read(length)
    decoder = _Decoder(raw)
    with _collection_paused():
        footer = decoder.struct()
    if decoder.at != length or _encode(footer) != raw:
        raise ValueError(f"{where}: its Parquet footer does not read back to the same bytes")
    if any(footer.has(f) for f in _FILE_ENCRYPTION):
        raise ValueError(f"{where}: an encrypted Parquet footer is not copied")
    return footer, start


def _columns(group: _Struct) -> list[_Struct]:
    return list(group.get(_GROUP_COLUMNS).values)


def _byte_range(group: _Struct, where: str) -> tuple[int, int]:
    """Where a row group's column chunks lie in its file: [start, end)."""
    start = end = None
    for chunk in _columns(group):
        meta = chunk.get(_CHUNK_META)
        if chunk.has(_CHUNK_FILE_PATH) or any(chunk.has(f) for f in _CHUNK_ELSEWHERE):
            raise ValueError(f"{where}: a column chunk with data outside its row group")
        if meta is None or meta.has(_META_BLOOM):
            raise ValueError(f"{where}: a column chunk with data outside its row group")
        first = min(
            meta.get(f) for f in (_META_DATA_PAGE, _META_DICT_PAGE) if meta.get(f) is not None
        )
        if end is not None and first != end:
            raise ValueError(f"{where}: a row group whose column chunks are not contiguous")
        start = first if start is None else start
        end = first + meta.get(_META_COMPRESSED)
    if start is None or end is None:
        raise ValueError(f"{where}: a row group without columns")
    return start, end


def _moved(group: _Struct, by: int, ordinal: int) -> bytes:
    """`group`'s metadata encoded with every file position moved `by` bytes, as group `ordinal`.

    `group` (decoded for this call) is changed in place.
    """
    positions = [f for f in group.fields if f.id == _GROUP_FILE_OFFSET]
    for chunk in _columns(group):
        positions += [f for f in chunk.fields if f.id == _CHUNK_FILE_OFFSET]
        meta = chunk.get(_CHUNK_META)
        positions += [
            f for f in meta.fields if f.id in (_META_DATA_PAGE, _META_INDEX_PAGE, _META_DICT_PAGE)
        ]
    for field in positions:
        if field.value:  # 0 (an unset ColumnChunk.file_offset, as pyarrow writes it) stays 0
            field.value += by
    for field in group.fields:
        if field.id == _GROUP_ORDINAL:
            field.value = ordinal
    return _encode(group)


def _shape(footer: _Struct) -> bytes:
    """A footer's bytes less its rows and row groups: the schema and what describes the file."""
    return _encode(
        _Struct([f for f in footer.fields if f.id not in (_FILE_NUM_ROWS, _FILE_ROW_GROUPS)])
    )


def _groups(footer: _Struct) -> list[_Struct]:
    return list(footer.get(_FILE_ROW_GROUPS).values)


class ParquetGroups:
    """A Parquet file opened to have its row groups copied (`GroupWriter.copy`)."""

    def __init__(self, path: Path) -> None:
        """Read `path`'s footer and find every group's bytes; a group is read when copied.

        Raises:
            ValueError: the file is not whole, or its footer is not one whose groups can be
                moved (page indexes, bloom filters, encryption, a chunk in another file).
        """
        self.path = path
        with path.open("rb") as handle:
            footer, _ = _footer(handle, str(path))
        self.shape = _shape(footer)
        groups = _groups(footer)
        self.ranges = [_byte_range(group, str(path)) for group in groups]
        # Kept encoded: decoded, a 1,000-group footer of 25 columns holds ~160 MB of objects.
        self._groups = [_encode(group) for group in groups]
        self._rows = [int(group.get(_GROUP_NUM_ROWS)) for group in groups]

    def __len__(self) -> int:
        return len(self._groups)

    def group(self, index: int) -> _Struct:
        """Row group `index`'s metadata, decoded."""
        with _collection_paused():
            return _Decoder(self._groups[index]).struct()

    @classmethod
    def open(cls, path: Path) -> ParquetGroups | None:
        """`path` opened, or None when its groups cannot be copied (then they are encoded).

        A damaged footer can decode to values of other kinds than the fields pyarrow writes
        (a missing list, a number where a struct was): any of those is a file not copied.
        """
        try:
            return cls(path)
        except (OSError, ValueError, TypeError, AttributeError, IndexError):
            return None

    def num_rows(self, index: int) -> int:
        """Rows in row group `index`."""
        return self._rows[index]


class GroupWriter:
    """A Parquet file written group by group: groups encoded by pyarrow or copied as bytes."""

    def __init__(self, path: Path, schema: pa.Schema, **options: Any) -> None:
        """Open `path` for rows of `schema`; `options` go to `pyarrow.parquet.ParquetWriter`."""
        self.path = path
        self._schema, self._options = schema, options
        self._template, _ = _footer(encode_group(None, schema, **options), f"{path} (no rows)")
        self._shape = _shape(self._template)
        self._groups: list[_Raw] = []
        self._rows = 0
        self._file = path.open("wb")
        self._file.write(_MAGIC)

    def write_table(self, table: pa.Table) -> None:
        """Encode `table` as one row group (pyarrow, as its own writer would) and append it."""
        self.append_encoded(encode_group(table, self._schema, **self._options))

    def append_encoded(self, encoded: bytes) -> None:
        """Append the row group `encode_group` gave for this file's schema and options."""
        footer, _ = _footer(encoded, f"{self.path} (a group encoded)")
        for group in _groups(footer):
            start, end = _byte_range(group, str(self.path))
            self._append(encoded[start:end], group, start)

    def accepts(self, source: ParquetGroups) -> bool:
        """Whether `source` has this file's schema and footer (its groups can be copied here)."""
        return source.shape == self._shape

    def copy(self, source: ParquetGroups, index: int) -> None:
        """Append row group `index` of `source`, whose schema must be this file's, as bytes."""
        if not self.accepts(source):
            raise ValueError(f"{source.path}: its schema is not that of {self.path}")
        group = source.group(index)
        start, end = source.ranges[index]
        with source.path.open("rb") as handle:
            handle.seek(start)
            data = handle.read(end - start)
        if len(data) != end - start:
            raise ValueError(f"{source.path}: row group {index} is cut short")
        self._append(data, group, start)

    def _append(self, data: bytes, group: _Struct, start: int) -> None:
        moved = _moved(group, self._file.tell() - start, len(self._groups))
        self._groups.append(_Raw(moved))
        self._rows += int(group.get(_GROUP_NUM_ROWS))
        self._file.write(data)

    def close(self) -> None:
        """Write the footer (pyarrow's for the schema, with these groups) and close the file."""
        if self._file.closed:
            return
        footer = _Decoder(_encode(self._template)).struct()
        footer.set(_FILE_NUM_ROWS, self._rows)
        footer.set(_FILE_ROW_GROUPS, _List(_STRUCT, self._groups))
        encoded = _encode(footer)
        self._file.write(encoded + len(encoded).to_bytes(4, "little") + _MAGIC)
        self._file.close()


def encode_group(table: pa.Table | None, schema: pa.Schema, **options: Any) -> bytes:
    """A whole Parquet file, in memory, of `table` as one row group (None: no rows).

    What `GroupWriter.append_encoded` appends. pyarrow encodes without the GIL, so groups can
    be encoded side by side on threads and appended in order.
    """
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, schema, **options) as writer:
        if table is not None:
            writer.write_table(table, row_group_size=max(1, table.num_rows))
    return bytes(sink.getvalue())
