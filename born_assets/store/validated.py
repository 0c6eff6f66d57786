"""A check of a table row by row reads only the row groups it has not seen pass before.

A build that changes a table rewrites it whole, but most of its row groups come out byte for byte
as they were: the stages write batch by batch in input order, and their bytes do not depend on
how a batch was put together (`store.parquet.ParquetSink.write_batch`). So a check whose verdict
on a row depends on that row alone (a schema's row-level rules, the sanitized rows' search for
hidden reasoning) keeps the digest of every row group that passed, and the next run reads only
the groups whose digest it does not hold; the others are counted as rows and passed. Adding a
file to a lane of a 100k-row corpus left 99 of the sanitized table's 100 groups as they were.

A digest is the SHA-256 of the group's column chunks as stored (their pages, with the codec and
physical type of each), of the file's Arrow schema, and of what the check is a function of: its
name, the code version and the Pandera and Arrow versions. Nothing is taken from a name, a size
or a time: a group whose bytes differ in any way is read again. A check over the whole table (a
column's values unique across it) stays the caller's, run on every row.

The digests are kept in one file per check (`DataDir.validated_row_groups`), replaced by each
run with the digests of the groups that passed in it: it never grows past one table's groups.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandera
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.parquet as pq

from born_assets.schemas.derive import ValidationReport, validate_batches
from born_assets.store.atomic import write_file
from born_assets.store.memo import code_version
from born_assets.store.parallel import read_ahead
from born_assets.store.per_file import PerFile

_DIGEST_BYTES = 32
_digests: PerFile[list[bytes]] = PerFile(kept=64)


def row_group_digests(handle: io.BufferedReader, salt: bytes) -> list[bytes]:
    """The SHA-256 of each row group of an open Parquet file (see the module), salted.

    The groups' bytes are read once per process while the file stays the same file
    (`store.per_file`): the three checks that read the sanitized table digest it once.
    """
    return [
        hashlib.sha256(salt + b"\0" + group).digest() for group in _digests.get(handle, _groups)
    ]


def group_digests(path: Path) -> list[bytes]:
    """The unsalted digest of each row group of the Parquet file at `path` (see the module).

    What the groups' bytes are, whoever asks: a release keys its sources' shards on them.
    """
    with path.open("rb") as handle:
        return _digests.get(handle, _groups)


def _groups(handle: BinaryIO) -> list[bytes]:
    """The unsalted digest of each row group: its chunks as stored, its rows, the Arrow schema."""
    parquet = pq.ParquetFile(handle)
    metadata = parquet.metadata
    schema = parquet.schema_arrow.serialize().to_pybytes()  # the types the rows are read as
    digests = []
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        digest = hashlib.sha256(schema)
        digest.update(f"{group.num_rows}".encode())
        for column in (group.column(c) for c in range(group.num_columns)):
            start = column.data_page_offset  # the chunk starts with its dictionary, if any
            if column.has_dictionary_page and 0 < column.dictionary_page_offset < start:
                start = column.dictionary_page_offset
            handle.seek(start)
            chunk = handle.read(column.total_compressed_size)
            digest.update(f"{column.compression}/{column.physical_type}/{len(chunk)}".encode())
            digest.update(chunk)
        digests.append(digest.digest())
    return digests


def _read(path: Path) -> set[bytes]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return set()
    return {data[i : i + _DIGEST_BYTES] for i in range(0, len(data), _DIGEST_BYTES)}


class PassedGroups:
    """The row groups of one table that one row-by-row check saw pass, by digest.

    Use as a context manager: `batches` are the rows of the groups not seen to pass (read from
    the one open file the digests were taken from), the caller calls `fail` for each group in
    which it found a failure, and on leaving without an error the groups that passed, this time
    or before, replace the kept digests.
    """

    def __init__(self, table: Path, passed_before: Path, check: str) -> None:
        """Digest `table`'s row groups for `check` (a name for what is checked, with its model).

        Args:
            table: The Parquet file.
            passed_before: The digests of the groups that passed (`DataDir.validated_row_groups`).
            check: Joins the digests' salt, with the code, Pandera and Arrow versions.
        """
        self._passed_before = passed_before
        self._handle = table.open("rb")
        salt = "\0".join((check, code_version(), pandera.__version__, pa_arrow.__version__))
        try:
            self._digests = row_group_digests(self._handle, salt.encode())
            self._reader = pq.ParquetFile(self._handle, pre_buffer=False)
        except BaseException:  # not a Parquet file: the caller's check says so, the file is shut
            self._handle.close()
            raise
        self._known = _read(passed_before)
        self._failed: set[int] = set()
        metadata = self._reader.metadata
        self.rows_remembered = sum(
            metadata.row_group(index).num_rows
            for index, digest in enumerate(self._digests)
            if digest in self._known
        )
        """Rows of the groups seen to pass before: not read again."""

    def batches(
        self, batch_rows: int, columns: list[str] | None = None
    ) -> Iterator[tuple[int, pa_arrow.RecordBatch]]:
        """(group index, batch) for the rows of every group not seen to pass, in order.

        The next batch is decoded on a thread while the caller checks this one.
        """
        unseen = [i for i, digest in enumerate(self._digests) if digest not in self._known]
        return read_ahead(
            (index, batch)
            for index in unseen
            for batch in self._reader.iter_batches(batch_rows, row_groups=[index], columns=columns)
        )

    def fail(self, index: int) -> None:
        """Group `index` has a row that failed: it is not kept as passed."""
        self._failed.add(index)

    def __enter__(self) -> PassedGroups:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._handle.close()
        if kind is None:
            passed = [
                digest
                for index, digest in enumerate(self._digests)
                if digest in self._known or index not in self._failed
            ]
            write_file(self._passed_before, b"".join(passed))


def validate_rows(
    model: type[pa.DataFrameModel], groups: PassedGroups, batch_rows: int, max_examples: int = 5
) -> ValidationReport:
    """Validate against `model` the rows of the groups not seen to pass; count every row.

    Consecutive groups are validated together, up to `TOGETHER_ROWS` rows or `TOGETHER_BYTES`;
    when such a run fails, each of its groups is validated alone to learn which ones failed.
    Row-level rules only: the model's unique columns are the caller's to check.
    """
    report = ValidationReport()
    for run in _runs(groups.batches(batch_rows)):
        _add(report, _validated(model, run, groups, max_examples), max_examples)
    report.rows += groups.rows_remembered
    return report


TOGETHER_ROWS = 8_000
"""Rows Pandera validates in one call at most. On narrow rows its cost is mostly per call: the
96,858 rows of the 100k bench's `deduplicated` table took 0.80 s in calls of 1,000 rows, 0.21 s
in calls of 5,000 and 0.17 s of 20,000."""
TOGETHER_BYTES = 32 * 1024 * 1024
"""Arrow bytes validated in one call at most: wide rows stop a run earlier (the sanitized rows
hold ~18 MB per 1,000, and their time goes to decoding, not to the calls)."""

_Run = list[tuple[int, pa_arrow.RecordBatch]]


def _runs(batches: Iterator[tuple[int, pa_arrow.RecordBatch]]) -> Iterator[_Run]:
    """Consecutive `(group index, batch)` items, gathered up to the run's size limits."""
    run: _Run = []
    rows = size = 0
    for index, batch in batches:
        if run and (rows + batch.num_rows > TOGETHER_ROWS or size + batch.nbytes > TOGETHER_BYTES):
            yield run
            run, rows, size = [], 0, 0
        run.append((index, batch))
        rows += batch.num_rows
        size += batch.nbytes
    if run:
        yield run


def _validated(
    model: type[pa.DataFrameModel], run: _Run, groups: PassedGroups, max_examples: int
) -> ValidationReport:
    """One run's report; the groups that failed are told to `groups`."""
    found = validate_batches(model, [pa_arrow.concat_batches([b for _, b in run])], max_examples)
    if found.passed:
        return found
    indexes = sorted({index for index, _ in run})
    if len(indexes) == 1:
        groups.fail(indexes[0])
        return found
    report = ValidationReport()  # rare: the run's groups alone, to fail only those that fail
    for one in indexes:
        alone = [(index, batch) for index, batch in run if index == one]
        _add(report, _validated(model, alone, groups, max_examples), max_examples)
    return report


def _add(report: ValidationReport, found: ValidationReport, max_examples: int) -> None:
    report.rows += found.rows
    report.failures += found.failures
    report.examples += found.examples[: max_examples - len(report.examples)]
