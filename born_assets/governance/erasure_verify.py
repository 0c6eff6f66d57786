"""Proving an erasure complete: no byte of an erased line is left anywhere under the data dir.

The needles are the erased lines of one request, re-read from their sources' input files (the
warehouse keeps only their hashes): each whole line, and every string in it of at least
`MIN_NEEDLE_CHARS` characters that no line outside the request also holds (a system prompt that
every source shares is not the erased source's bytes). Every file under the data dir is scanned
except the sources' own input files (the owner's upstream copy, which erasure does not edit) and
the erasure folder (requests and tombstones: ids and hashes, never content). Parquet files are
read value by value, since their pages are compressed; every other file byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson

from born_assets import layout
from born_assets.ingest.readers import iter_records
from born_assets.layout import DataDir
from born_assets.schemas.vocabulary import QuarantineReason
from born_assets.store.parquet import parquet_reader

MIN_NEEDLE_CHARS = 24
SEPARATOR = "\x00"


@dataclass(frozen=True)
class Needles:
    """What to look for: the erased strings, and the files they came from (not scanned)."""

    strings: frozenset[str]
    lines: int
    inputs: frozenset[Path]


def erased_locations(
    con: duckdb.DuckDBPyConnection, source_dirs: Sequence[Path], request_id: str
) -> set[tuple[str, int]]:
    """(source file, line) of every line ingest recorded as erased by `request_id`."""
    paths = [(d / layout.QUARANTINE).as_posix() for d in source_dirs]
    paths = [p for p in paths if Path(p).exists()]
    if not paths:
        return set()
    rows = con.execute(
        "SELECT source_file, source_line FROM read_parquet($p) WHERE reason = $r AND field = $id",
        {"p": paths, "r": QuarantineReason.ERASED.value, "id": request_id},
    ).fetchall()
    return {(str(f), int(n)) for f, n in rows}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _line_strings(raw: bytes) -> set[str]:
    text = raw.decode("utf-8", errors="replace")
    try:
        leaves = set(_strings(orjson.loads(raw)))
    except orjson.JSONDecodeError:
        leaves = set()
    return {s for s in (text, *leaves) if len(s) >= MIN_NEEDLE_CHARS}


def collect_needles(data: DataDir, inputs: Sequence[Path], erased: set[tuple[str, int]]) -> Needles:
    """The erased lines' strings that no other input line holds."""
    wanted: set[str] = set()
    others: set[str] = set()
    lines = 0
    for path in inputs:
        name = data.relative(path)
        for record in iter_records(path):
            strings = _line_strings(record.raw)
            if (name, record.number) in erased:
                wanted |= strings
                lines += 1
            else:
                others |= strings
    return Needles(frozenset(wanted - others), lines, frozenset(p.resolve() for p in inputs))


def _parquet_hits(path: Path, needles: frozenset[str]) -> int:
    hits = 0
    for batch in parquet_reader(path).iter_batches(batch_size=10_000):
        for column in batch.columns:
            values = column.to_pylist()
            text = SEPARATOR.join(
                v if isinstance(v, str) else orjson.dumps(v, default=str).decode()
                for v in values
                if v is not None
            )
            hits += sum(text.count(n) for n in needles)
    return hits


def _byte_hits(path: Path, needles: frozenset[str]) -> int:
    content = path.read_bytes()
    return sum(content.count(n.encode("utf-8")) for n in needles)


def scan(data: DataDir, needles: Needles) -> dict[str, int]:
    """Files under the data dir that still hold a needle -> how many times."""
    skipped = {data.erasure_requests.parent.resolve()}
    found: dict[str, int] = {}
    for path in sorted(data.root.rglob("*")):
        if not path.is_file() or path.resolve() in needles.inputs:
            continue
        if any(path.resolve().is_relative_to(s) for s in skipped):
            continue
        is_parquet = path.suffix == ".parquet"
        hits = (_parquet_hits if is_parquet else _byte_hits)(path, needles.strings)
        if hits:
            found[data.relative(path)] = hits
    return found
