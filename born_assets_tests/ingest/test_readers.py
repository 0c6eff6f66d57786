"""Every file a source holds is read record by record, or refused loudly: never skipped.

Public trace datasets ship as JSONL (often gzip- or zstd-compressed), as JSON arrays (LLaMA-Factory,
Alpaca) and sometimes with a byte order mark. A reader that skips a `.jsonl.gz` silently, chokes on
a BOM, or loads a whole JSON array into memory loses rows or memory; so each kind is read here
from real records, a broken element is refused on its own (the rest still read), a file of
another kind or a corrupt stream is one refused record naming the file, and the digest always
covers the file's bytes as stored.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from born_assets.ingest.files import ingest_files
from born_assets.ingest.import_rows import ImportContext, import_row
from born_assets.ingest.json_array import split_elements
from born_assets.ingest.readers import FileKind, file_kind, iter_records
from born_assets.ingest.record import Origin
from born_assets.layout import DataDir
from born_assets.specs.imports import LoadedImport, load_import
from born_assets_tests.conftest import FIXTURES

LINES = (FIXTURES / "traces" / "sharegpt_plain.jsonl").read_bytes().splitlines()


def zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


def records(path: Path) -> list[tuple[int, bytes, str | None]]:
    digest = hashlib.sha256()
    found = [
        (r.number, r.raw, r.unreadable.reason.value if r.unreadable else None)
        for r in iter_records(path, digest)
    ]
    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.jsonl", FileKind.JSONL),
        ("A.JSONL.GZ", FileKind.JSONL_GZIP),
        ("a.jsonl.zst", FileKind.JSONL_ZSTD),
        ("a.json", FileKind.JSON),
        ("a.csv", None),
        ("a.jsonl.bz2", None),
        ("README.md", None),
    ],
)
def test_file_kind_by_name(name: str, kind: FileKind | None) -> None:
    assert file_kind(Path(name)) is kind


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("plain.jsonl", lambda b: b),
        ("bom.jsonl", lambda b: b"\xef\xbb\xbf" + b),
        ("crlf.jsonl", lambda b: b.replace(b"\n", b"\r\n")),
        ("packed.jsonl.gz", lambda b: gzip.compress(b, mtime=0)),
        ("packed.jsonl.zst", zstd),
    ],
)
def test_jsonl_in_any_packing_gives_the_same_records(tmp_path: Path, name: str, encode) -> None:
    path = tmp_path / name
    path.write_bytes(encode(b"".join(line + b"\n" for line in LINES)))
    assert records(path) == [(1, LINES[0], None), (2, LINES[1], None)]


def test_a_json_array_is_split_element_by_element(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    tricky = b'{"s": "a, ] } [ { \\" \\\\", "n": [1, {"x": [2]}]}'
    path.write_bytes(
        b"\xef\xbb\xbf[\n  " + LINES[0] + b",\n  " + tricky + b" ,\n" + LINES[1] + b"\n]\n"
    )
    assert records(path) == [(1, LINES[0], None), (2, tricky, None), (3, LINES[1], None)]
    assert json.loads(tricky)["s"] == 'a, ] } [ { " \\'


@pytest.mark.parametrize(
    ("document", "pieces"),
    [
        (b"[]", []),
        (b"  ", []),
        (b'{"one": 1}\n', [b'{"one": 1}']),
        (b"[1, {bad}, 3]", [b"1", b"{bad}", b"3"]),
        (b'[{"a": 1}, {"b": ', [b'{"a": 1}', b'{"b":']),
        (b'[{"a": 1}] trailing', [b'{"a": 1}', b"trailing"]),
    ],
)
def test_what_cannot_be_split_still_comes_out(document: bytes, pieces: list[bytes]) -> None:
    class Chunks:  # one byte at a time: every state survives a chunk boundary
        def __init__(self, data: bytes) -> None:
            self.data = data

        def read(self, _: int) -> bytes:
            head, self.data = self.data[:1], self.data[1:]
            return head

    assert list(split_elements(Chunks(document))) == pieces  # type: ignore[arg-type]


def test_an_unsupported_file_is_one_refused_record(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(b"a,b\n1,2\n")
    ((number, raw, reason),) = records(path)
    assert (number, reason) == (1, "unsupported_file")
    assert raw == b"a,b\n1,2\n"


def readable_lines(path: Path, compression: str) -> int:
    """Complete lines among the bytes Arrow's decompressor yields, one at a time, to the break."""
    yielded = bytearray()
    stream = pa.CompressedInputStream(pa.OSFile(str(path)), compression)
    with contextlib.suppress(OSError):
        while byte := stream.read(1):
            yielded += byte
    return yielded.count(b"\n")


@pytest.mark.parametrize(
    ("name", "compress", "compression"),
    [
        ("cut.jsonl.gz", lambda b: gzip.compress(b, mtime=0), "gzip"),
        ("cut.jsonl.zst", zstd, "zstd"),
    ],
)
@pytest.mark.parametrize("kept", [0.5, 0.9, 0.02])
def test_a_cut_stream_keeps_every_line_before_the_break_and_refuses_the_rest(
    tmp_path: Path, name: str, compress: Callable[[bytes], bytes], compression: str, kept: float
) -> None:
    text = b"".join(line + b"\n" for line in LINES * 20000)  # ~2.5 MB: the cut is past 1 MiB
    whole = compress(text)
    path = tmp_path / name
    path.write_bytes(whole[: int(len(whole) * kept)])
    found = records(path)
    assert found[-1][2] == "unreadable_file"
    assert all(reason is None for _, _, reason in found[:-1])
    assert [number for number, _, _ in found] == list(range(1, len(found) + 1))
    assert len(found) - 1 == readable_lines(path, compression)
    assert len(found) > 1 or kept < 0.1  # (2% of a zstd stream holds no whole block)
    assert text.startswith(b"".join(raw + b"\n" for _, raw, _ in found[:-1]))


def test_a_corrupt_stream_keeps_what_was_read_and_refuses_the_rest(tmp_path: Path) -> None:
    whole = bytearray(gzip.compress(b"".join(line + b"\n" for line in LINES * 5000), mtime=0))
    whole[len(whole) // 2 :] = bytes(len(whole) - len(whole) // 2)  # zeros from the middle on
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(bytes(whole))
    found = records(path)
    assert found[-1][2] == "unreadable_file"
    assert all(reason is None for _, _, reason in found[:-1])
    assert len(found) - 1 == readable_lines(path, "gzip") > 0


SPEC = {
    "import_id": "chats",
    "name": "chats",
    "description": "test import",
    "owner": "team:data-eng",
    "source_url": "https://example.org/chats",
    "license": "Apache-2.0",
    "consent_basis": "test",
    "format": "sharegpt",
    "fields": {"id_field": "id"},
    "dataset_family": "chats",
    "source_type": "real",
    "generated_at": "2023-09-29",
    "intended_use": "train",
    "files": {"path": "traces/chats"},
}


def test_every_file_of_a_source_ends_in_fates_naming_file_and_line(tmp_path: Path) -> None:
    spec_path = tmp_path / "imports" / "chats.yaml"
    spec_path.parent.mkdir(parents=True)
    spec_path.write_text(yaml.safe_dump(SPEC))
    loaded = load_import(spec_path, DataDir.at(tmp_path))
    assert isinstance(loaded, LoadedImport), loaded
    folder = tmp_path / "traces" / "chats"
    folder.mkdir(parents=True)
    (folder / "a.json").write_bytes(b"[" + LINES[0] + b", {broken}]")
    (folder / "b.jsonl.gz").write_bytes(gzip.compress(b"\xef\xbb\xbf" + LINES[1] + b"\n", mtime=0))
    (folder / "c.txt").write_text("stray notes\n")
    data = DataDir.at(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    summary = ingest_files(
        data.source_files("traces/chats", "*"),
        origin=Origin("import", "chats", loaded.content_hash),
        data=data,
        parse_row=partial(import_row, ImportContext(loaded)),
        out_dir=out,
    )
    assert (summary.files, summary.lines_read, summary.accepted) == (3, 4, 2)
    bad = pq.read_table(out / "quarantine.parquet").to_pylist()
    assert [(b["source_file"], b["source_line"], b["reason"]) for b in bad] == [
        ("traces/chats/a.json", 2, "unparseable_json"),
        ("traces/chats/c.txt", 1, "unsupported_file"),
    ]
    assert bad[1]["message"].startswith("traces/chats/c.txt line 1: 'c.txt' is not a trace file")
    ledger = pq.read_table(out / "files.parquet").to_pylist()
    assert [(f["source_file"], f["lines_read"]) for f in ledger] == [
        ("traces/chats/a.json", 2),
        ("traces/chats/b.jsonl.gz", 1),
        ("traces/chats/c.txt", 1),
    ]
