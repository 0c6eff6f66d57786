"""Streaming ingest: every record of every input file becomes an accepted row or a quarantined one.

Shared by lanes and imports: the caller supplies how one parsed JSON object becomes a lineage row
(`RowParser`); this module reads (`readers`: JSONL, gzip and zstd JSONL, JSON arrays), counts,
de-duplicates repeated records, and writes three tables in bounded batches: `rows.parquet`,
`quarantine.parquet` and the per-file ledger `files.parquet`. A record is a line of a JSONL file
or an element of a JSON array; `source_line` is its number and `lines_read` counts them.

An ingest may take its first files over from the last one (`TakenOver`, decided in
`ingest.reuse`): their rows, quarantined lines and ledger entries are copied from its tables, in
row groups as they were written (whole groups of rows as bytes), and only the files after them
are read.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from born_assets import layout
from born_assets.ingest.jsonl import RawLine, parse_object
from born_assets.ingest.quarantine import RejectedLine, Rejection
from born_assets.ingest.readers import iter_records
from born_assets.ingest.record import Origin
from born_assets.layout import DataDir
from born_assets.schemas.fates import quarantine_row
from born_assets.schemas.identity import sha256_hex
from born_assets.schemas.ingest import LineageRecord, QuarantineRecord, SourceFileRecord
from born_assets.schemas.vocabulary import QuarantineReason, Stage
from born_assets.specs.erasure import ErasureFilter
from born_assets.store.parquet import (
    DEFAULT_BATCH_ROWS,
    ParquetSink,
    iter_parquet_batches,
    parquet_reader,
)
from born_assets.store.row_groups import ParquetGroups

RowParser = Callable[[dict[str, Any], str, int], dict[str, Any]]
EXAMPLE_MESSAGES = 10
"""Quarantine messages an ingest keeps for its log and metadata."""


@dataclass
class IngestSummary:
    """Counts from one ingest: lines read, accepted, quarantined by reason, per file."""

    files: int = 0
    lines_read: int = 0
    accepted: int = 0
    bytes_read: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    example_messages: list[str] = field(default_factory=list)

    @property
    def quarantined_total(self) -> int:
        """Lines quarantined for any reason."""
        return sum(self.quarantined.values())


@dataclass(frozen=True)
class TakenOver:
    """The last published ingest of a source, and how many of its first files this one shares."""

    folder: Path
    files: int


def ingest_files(
    files: Sequence[Path],
    *,
    origin: Origin,
    data: DataDir,
    parse_row: RowParser,
    out_dir: Path,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    erasure: ErasureFilter | None = None,
    taken_over: TakenOver | None = None,
) -> IngestSummary:
    """Read every line of `files` into `out_dir`; no line is dropped without a recorded reason.

    With `taken_over`, the first `taken_over.files` files are not read: what the last ingest
    wrote for them is copied from its folder, as this one would have written it.

    A line whose example id was already accepted (the same row twice, in one file or across the
    origin's files) is quarantined as `duplicate_line`; the first in path and line order wins.
    A line an erasure request or tombstone covers is recorded as `erased` without its content.
    """
    eraser = erasure if erasure is not None and not erasure.is_empty() else None
    summary = IngestSummary()
    seen_ids: set[str] = set()
    copies = taken_over is not None and taken_over.files > 0
    with (
        ParquetSink(out_dir / layout.ROWS, LineageRecord, batch_rows, copies=copies) as rows,
        ParquetSink(out_dir / layout.QUARANTINE, QuarantineRecord, batch_rows) as quarantine,
        ParquetSink(out_dir / layout.FILES, SourceFileRecord, batch_rows) as ledger,
    ):
        if taken_over is not None and taken_over.files:
            names = {data.relative(path) for path in files[: taken_over.files]}
            _take_over(taken_over.folder, names, (rows, quarantine, ledger), summary, seen_ids)
            files = files[taken_over.files :]
        for path in files:
            source_file = data.relative(path)
            digest = hashlib.sha256()
            lines = 0
            for line in iter_records(path, digest):
                lines = line.number
                where = (source_file, line.number)
                row, rejection = _accept(line, where, parse_row, seen_ids, eraser)
                if eraser is not None and not row and rejection is not None:
                    rejection = _erased_line(eraser, origin, line.raw) or rejection
                if rejection is None:
                    rows.append(row)
                    summary.accepted += 1
                    continue
                record = quarantine_row(
                    origin_kind=origin.kind,
                    origin_id=origin.id,
                    source_file=source_file,
                    source_line=line.number,
                    stage=Stage.INGEST,
                    reason=rejection.reason,
                    field=rejection.field,
                    message=rejection.message,
                    raw=line.raw,
                    example_id=row.get("example_id"),
                )
                quarantine.append(record)
                summary.quarantined[rejection.reason.value] += 1
                if len(summary.example_messages) < EXAMPLE_MESSAGES:
                    summary.example_messages.append(str(record["message"]))
            size = path.stat().st_size
            ledger.append(
                {
                    "origin_kind": origin.kind,
                    "origin_id": origin.id,
                    "source_file": source_file,
                    "lines_read": lines,
                    "size_bytes": size,
                    "file_sha256": digest.hexdigest(),
                }
            )
            summary.files += 1
            summary.lines_read += lines
            summary.bytes_read += size
            rows.end_group(file_end_rows(batch_rows))
    return summary


def file_end_rows(batch_rows: int) -> int:
    """Rows a row group of the rows table needs to end with its file instead of going on.

    The rows of a file added after others then start a row group of their own, and the earlier
    files' groups (and every table's groups that follow them, down to the release's shard sets)
    stay as they were; a source of many small files still fills groups of half a batch at least.
    """
    return max(1, batch_rows // 2)


def _take_over(
    folder: Path,
    names: set[str],
    sinks: tuple[ParquetSink, ParquetSink, ParquetSink],
    summary: IngestSummary,
    seen_ids: set[str],
) -> None:
    """Copy the rows, quarantined lines and ledger entries of the files `names` from `folder`."""
    rows, quarantine, ledger = sinks
    summary.accepted += _take_over_rows(folder / layout.ROWS, names, rows, seen_ids)
    for batch in _leading_rows(folder / layout.QUARANTINE, names, quarantine.batch_rows):
        quarantine.extend(batch)
        summary.quarantined.update(batch.column("reason").to_pylist())
        room = max(0, EXAMPLE_MESSAGES - len(summary.example_messages))
        summary.example_messages.extend(batch.column("message").slice(0, room).to_pylist())
    for batch in _leading_rows(folder / layout.FILES, names, ledger.batch_rows):
        ledger.extend(batch)
        summary.files += batch.num_rows
        summary.lines_read += pc.sum(batch.column("lines_read")).as_py() or 0
        summary.bytes_read += pc.sum(batch.column("size_bytes")).as_py() or 0


def _take_over_rows(path: Path, names: set[str], rows: ParquetSink, seen_ids: set[str]) -> int:
    """Copy the rows of the files `names`, which come first in the table at `path`; how many.

    A whole row group of theirs is copied as bytes (`ParquetSink.copy_row_group`) while the sink
    holds no row and the group has the sink's `batch_rows`, or ended with its file at
    `file_end_rows` or more (a group of fewer rows than a batch ends at a file's end): it is then
    the group an ingest reading every file would write. The rows after the last such group are
    decoded and added.
    """
    source = ParquetGroups.open(path)
    copyable = source if source is not None and rows.can_copy(source) else None
    files = pa.array(sorted(names), pa.string())
    reader = parquet_reader(path)
    taken = 0
    for group in range(reader.num_row_groups):
        narrow = reader.read_row_group(group, columns=["source_file", "example_id"])
        leading = _leading(narrow.column("source_file"), files)
        whole = leading == narrow.num_rows >= file_end_rows(rows.batch_rows)
        if copyable is not None and whole and not rows.holds_rows:
            rows.copy_row_group(copyable, group)
        elif leading:
            rows.extend(reader.read_row_group(group).slice(0, leading))
        seen_ids.update(narrow.column("example_id").slice(0, leading).to_pylist())
        taken += leading
        if leading < narrow.num_rows:
            break
    return taken


def _leading_rows(path: Path, names: set[str], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The rows of the table at `path` from the files `names`, which come first in it.

    The next batch is decoded on a thread while the caller encodes this one.
    """
    files = pa.array(sorted(names), pa.string())
    for batch in iter_parquet_batches([path], batch_rows):
        leading = _leading(batch.column("source_file"), files)
        yield batch.slice(0, leading)
        if leading < batch.num_rows:
            return


def _leading(source_files: pa.Array | pa.ChunkedArray, files: pa.Array) -> int:
    """How many of the first `source_files` are among `files`."""
    inside = pc.is_in(source_files, value_set=files).to_numpy(zero_copy_only=False)
    return len(inside) if inside.all() else int(np.argmin(inside))


def _erased_line(eraser: ErasureFilter, origin: Origin, raw: bytes) -> Rejection | None:
    """A line that did not parse, erased when its whole origin, hash or text is."""
    request = eraser.request_for_line(f"{layout.SOURCE_GROUPS[origin.kind]}/{origin.id}", raw)
    return None if request is None else _erased(request)


def _erased(request: str) -> Rejection:
    return Rejection(QuarantineReason.ERASED, request, f"erased by request {request}")


def _accept(
    line: RawLine,
    where: tuple[str, int],
    parse_row: RowParser,
    seen_ids: set[str],
    eraser: ErasureFilter | None,
) -> tuple[dict[str, Any], Rejection | None]:
    if line.unreadable is not None:
        return {}, line.unreadable
    try:
        row = parse_row(parse_object(line.raw), *where)
    except RejectedLine as refused:
        return {}, refused.rejection
    if eraser is not None and (request := eraser.request_for(row, sha256_hex(line.raw))):
        return row, _erased(request)
    if row["example_id"] in seen_ids:
        return row, Rejection(
            QuarantineReason.DUPLICATE_LINE,
            None,
            f"the same row was already read (example {row['example_id']})",
        )
    seen_ids.add(row["example_id"])
    return row, None
