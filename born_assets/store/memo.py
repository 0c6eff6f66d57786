"""Rows of a stage's last published output, found again by `example_id` (incremental builds).

A stage whose output row is a function of its input row's content, which `example_id` names
(origin, task, prompt hash, response hash), and of a few versions (the code, the policy) may take
that row from its last output instead of computing it again. `RowMemo.open` uses the last output
only when the versions it was built with (`memo.json`, written by `write_versions`) equal the
current ones. It indexes the old example ids (a sorted narrow array, ~35 bytes a row) and reads
the old rows row group by row group in the order a new run asks for them, which is the old order
when the inputs are mostly unchanged, so memory stays at a few row groups. The last output is
used only while its bytes are those its step recorded (`store.unchanged`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.store.json_state import read_json_object
from born_assets.store.parallel import Lookahead, ordered_map
from born_assets.store.parquet import parquet_reader
from born_assets.store.progress import Progress
from born_assets.store.row_groups import ParquetGroups
from born_assets.store.unchanged import as_recorded

Out = TypeVar("Out")
CODE_PACKAGE = Path(__file__).resolve().parents[1]
_CACHED_ROW_GROUPS = 4
LOOKAHEAD_BATCHES = 64
"""How far `remembered_stream` reads ahead for rows to compute."""
LOOKAHEAD_BATCH_BYTES = 2 * 1024 * 1024
"""The most a batch read ahead may hold: a narrow batch of 1,000 rows is ~0.3 MB, one with its
texts ~10 MB, so at most ~128 MB wait ahead, and usually ~20."""


@functools.cache
def code_version(package: Path = CODE_PACKAGE) -> str:
    """SHA-256 over the package's Python sources (paths and bytes), the same on every clone.

    Any code change invalidates every memo and reused ingest built before it. Read once per
    process: the code a process runs is the code it imported, whatever happens to the files later.
    """
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def write_versions(folder: Path, versions: Mapping[str, str]) -> None:
    """Record, in a (staging) output folder, the versions its rows were computed with."""
    (folder / layout.MEMO_STATE).write_text(
        json.dumps(dict(versions), sort_keys=True), encoding="utf-8"
    )


def _recorded_versions(folder: Path) -> dict[str, str] | None:
    return read_json_object(folder / layout.MEMO_STATE)


def id_keys(example_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Example ids as fixed-width bytes, for sorting and `np.searchsorted`."""
    return pc.cast(example_ids, pa.string()).to_numpy(zero_copy_only=False).astype("S")


def is_whole_parquet(path: Path) -> bool:
    """True when `path` opens as Parquet and its row groups add up to its footer's row count."""
    try:
        metadata = pq.ParquetFile(path).metadata
    except (pa.ArrowInvalid, OSError):
        return False
    groups = sum(metadata.row_group(i).num_rows for i in range(metadata.num_row_groups))
    return groups == metadata.num_rows


class IdIndex:
    """A fixed list of example ids, searched by binary search over their sorted keys.

    Built once (a sort; ~40 bytes an id), then each lookup of a batch costs its size times
    log(ids). Arrow's `is_in` and `index_in` hash their whole value set on every call instead:
    asked once a batch against a corpus's ids, that grows with the square of the corpus (a
    1,000-id batch against 700,000 ids took 115 ms a call, against 70,000 ids 4.9 ms).
    """

    def __init__(self, example_ids: pa.Array | pa.ChunkedArray) -> None:
        """Index `example_ids` (distinct); a position is an id's place in this list."""
        keys = id_keys(example_ids)
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]

    def __len__(self) -> int:
        return len(self._sorted)

    def positions(self, example_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Each id's position in the indexed list, -1 where it is not in it."""
        wanted = id_keys(example_ids)
        if not len(self._sorted):
            return np.full(len(wanted), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted, wanted), len(self._sorted) - 1)
        hit = self._sorted[at] == wanted
        return np.where(hit, self._order[at], -1).astype(np.int64)

    def contains(self, example_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Per id: whether it is in the indexed list."""
        return self.positions(example_ids) >= 0


class RowMemo:
    """The remembered rows of one table (empty when there is nothing valid to remember)."""

    def __init__(self, path: Path | None, columns: Sequence[str]) -> None:
        """Index `path`'s example ids; `columns` are the ones `take` returns."""
        self.columns = list(columns)
        self.path = path
        """The remembered table (None: nothing is remembered)."""
        self._file = pq.ParquetFile(path) if path is not None else None
        self._cache: OrderedDict[int, pa.Table] = OrderedDict()
        ids = pa.array([], pa.string())
        starts = np.array([0], dtype=np.int64)
        if self._file is not None:
            ids = self._file.read(columns=["example_id"]).column(0)
            sizes = [self._file.metadata.row_group(i).num_rows for i in range(self._row_groups)]
            starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._index = IdIndex(ids)
        self._starts = starts

    @classmethod
    def open(
        cls, folder: Path, file_name: str, versions: Mapping[str, str], columns: Sequence[str]
    ) -> RowMemo:
        """The memo of `folder/file_name`, if it was computed with exactly `versions`.

        Only a file with the SHA-256 its step recorded (`store.unchanged.as_recorded`) is one: a
        row edited in the table since would otherwise be handed back under its example id. A
        file that is not whole Parquet (truncated, say) is no memo either: its rows are computed
        again, never read as fewer rows.
        """
        path = folder / file_name
        valid = _recorded_versions(folder) == dict(versions) and as_recorded(folder, file_name)
        return cls(path if valid and is_whole_parquet(path) else None, columns)

    @property
    def _row_groups(self) -> int:
        return self._file.metadata.num_row_groups if self._file is not None else 0

    def __len__(self) -> int:
        return len(self._index)

    def find(self, example_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Position of each id in the remembered table, -1 where it is not remembered."""
        return self._index.positions(example_ids)

    def take(self, positions: np.ndarray, columns: Sequence[str] | None = None) -> pa.Table:
        """The remembered rows at `positions` (from `find`, all >= 0), in order.

        With `columns` (a few of the memo's), only those are read, and nothing is cached.
        """
        if not len(positions):
            return self.empty(columns)
        if self._file is None:
            raise ValueError("nothing is remembered")
        groups = np.searchsorted(self._starts, positions, side="right") - 1
        pieces = []
        for group in dict.fromkeys(groups.tolist()):
            chosen = np.flatnonzero(groups == group)
            offsets = positions[chosen] - self._starts[group]
            if columns is None:
                rows = self._row_group(group)
            else:
                rows = self._file.read_row_group(group, columns=list(columns))
            pieces.append((chosen, _rows_at(rows, offsets)))
        table = pa.concat_tables([piece for _, piece in pieces])
        placed = np.concatenate([chosen for chosen, _ in pieces])
        if _ascending(placed):
            return table
        return table.take(pa.array(np.argsort(placed, kind="stable")))

    def recall(
        self, rows: pa.Table | pa.RecordBatch, same: Sequence[str] = ()
    ) -> tuple[np.ndarray, pa.Table]:
        """Which `rows` the memo knows, and its columns for those rows, in order.

        A row is known as `known_positions` says.
        """
        positions = self.known_positions(rows, same)
        known = positions >= 0
        return known, self.take(positions[known])

    def known_positions(
        self, rows: pa.Table | pa.RecordBatch, same: Sequence[str] = ()
    ) -> np.ndarray:
        """Each row's position in the remembered table, -1 where the memo does not know it.

        A row is known when its `example_id` is remembered and its `same` columns (which must be
        among the memo's columns) equal the remembered ones. Only `same` is read of the memo.
        """
        positions = self.find(rows.column("example_id"))
        known = positions >= 0
        if same and known.any():
            inputs = rows.filter(pa.array(known))
            remembered = self.take(positions[known], same)
            agree = np.ones(remembered.num_rows, dtype=bool)
            for name in same:
                agree &= equal_values(inputs.column(name), remembered.column(name))
            positions[np.flatnonzero(known)[~agree]] = -1
        return positions

    def whole_group(self, rows: pa.Table) -> int | None:
        """The remembered row group that is `rows` exactly, or None.

        That is the group whose rows are `rows`' example ids in the same order, all of them, and
        whose other columns (those not in the memo's `columns`, taken from the input) equal
        `rows`' too: the memo's columns of those rows are that group's by construction. Such a
        group's bytes can be copied instead of encoding `rows` again (`ParquetSink.copy_row_group`).
        """
        if self._file is None or not rows.num_rows:
            return None
        positions = self.find(rows.column("example_id"))
        if positions[0] < 0:
            return None
        group = int(np.searchsorted(self._starts, positions[0], side="right") - 1)
        start, end = self._starts[group], self._starts[group + 1]
        if positions[0] != start or end - start != rows.num_rows:
            return None
        if not np.array_equal(positions, np.arange(start, end)):
            return None
        others = [name for name in rows.column_names if name not in self.columns]
        if others:
            old = self._file.read_row_group(group, columns=others)
            if not old.equals(rows.select(others)):
                return None
        return group

    def groups(self) -> ParquetGroups | None:
        """The remembered file opened to copy its row groups (None: none can be copied)."""
        return ParquetGroups.open(self.path) if self.path is not None else None

    def empty(self, columns: Sequence[str] | None = None) -> pa.Table:
        """No rows, with `columns` (default: the memo's; typed when a file is open)."""
        names = self.columns if columns is None else list(columns)
        if self._file is None:
            return pa.table({name: pa.array([], pa.null()) for name in names})
        return self._file.schema_arrow.empty_table().select(names)

    def _row_group(self, index: int) -> pa.Table:
        assert self._file is not None
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        table = self._file.read_row_group(index, columns=self.columns)
        self._cache[index] = table
        if len(self._cache) > _CACHED_ROW_GROUPS:
            self._cache.popitem(last=False)
        return table


@dataclass(frozen=True)
class MemoBatch(Generic[Out]):
    """One input batch of `remembered_stream`: the new work's result and the remembered rows."""

    example_ids: pa.Array | pa.ChunkedArray
    """The input batch's ids, in input order."""
    computed: Out
    """`function` applied to the rows the memo did not know."""
    known: pa.RecordBatch
    """The input rows the memo knew, in input order."""
    remembered: pa.Table
    """The memo's columns for `known`, row for row."""


def remembered_stream(
    function: Callable[[pa.RecordBatch], Out],
    batches: Iterable[pa.RecordBatch],
    memo: RowMemo,
    workers: int,
    same: Sequence[str] = (),
) -> Iterator[MemoBatch[Out]]:
    """Apply `function` (on `workers` processes) only to the rows `memo` does not know.

    A row is known as `RowMemo.known_positions` says. The rows to compute are looked for up to
    `LOOKAHEAD_BATCHES` batches ahead of the batch being handed over, so the workers compute them
    while the caller writes the remembered rows before them: an incremental build's new rows
    come in one place, after most of the remembered ones. Only narrow batches (the row groups
    `known_groups_narrow` left without texts) and their positions are held that far ahead: a
    batch with nothing to compute is handed to `function` here, not to a worker, only when it
    is under `LOOKAHEAD_BATCH_BYTES`; a wider one goes to a worker and counts in its window.
    The memo's rows are read when their batch is handed over.
    """
    pending: deque[tuple[pa.RecordBatch, np.ndarray]] = deque()

    def unknown_rows() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            positions = memo.known_positions(batch, same)
            pending.append((batch, positions))
            yield batch.filter(pa.array(positions < 0))

    def trivial(unknown: pa.RecordBatch) -> bool:  # `unknown` is the last batch in `pending`
        return unknown.num_rows == 0 and pending[-1][0].nbytes <= LOOKAHEAD_BATCH_BYTES

    ahead = Lookahead(trivial, LOOKAHEAD_BATCHES)
    for computed in ordered_map(function, unknown_rows(), workers, ahead):
        batch, positions = pending.popleft()
        known = positions >= 0
        remembered = memo.take(positions[known])
        known_rows = batch.filter(pa.array(known))
        yield MemoBatch(batch.column("example_id"), computed, known_rows, remembered)


def known_groups_narrow(
    paths: Sequence[Path],
    batch_rows: int,
    columns: Sequence[str],
    narrow: Sequence[str],
    known: Callable[[pa.Table], bool],
    progress: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """The rows of `paths` with `columns`, in order, in batches of at most `batch_rows`.

    Each row group's `narrow` columns (`example_id` among them) are read first. A group for
    which `known(those columns)` holds (a memo remembers every row of it that matters) is read
    no further, and its other columns are nulls: the rows' texts are not needed, and reading
    them was most of an incremental build's cost.
    With a `progress` label, the rows read are reported under it.
    """
    total = sum(pq.read_metadata(path).num_rows for path in paths) if progress else None
    counter = Progress(progress, total) if progress else None
    for path in paths:
        reader = parquet_reader(path)
        schema = pa.schema(  # the columns a known group leaves out are nulls there
            [
                field if field.name in narrow else field.with_nullable(True)
                for field in (reader.schema_arrow.field(name) for name in columns)
            ]
        )
        for group in range(reader.num_row_groups):
            read = reader.read_row_group(group, columns=list(narrow))
            if known(read):
                table = pa.table(
                    {
                        name: read.column(name)
                        if name in narrow
                        else pa.nulls(read.num_rows, schema.field(name).type)
                        for name in columns
                    },
                    schema=schema,
                )
                batches: Iterable[pa.RecordBatch] = table.to_batches(batch_rows)
            else:
                batches = (
                    batch.cast(schema)
                    for batch in reader.iter_batches(
                        batch_rows, row_groups=[group], columns=columns
                    )
                )
            for batch in batches:
                yield batch
                if counter is not None:
                    counter.advance(batch.num_rows)
    if counter is not None:
        counter.finish()


def _ascending(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] > values[:-1]))


def _rows_at(table: pa.Table, offsets: np.ndarray) -> pa.Table:
    """`table.take(offsets)`, without copying when the offsets are one run (rows kept in order)."""
    first = int(offsets[0])
    if _ascending(offsets) and int(offsets[-1]) - first == len(offsets) - 1:
        return table.slice(first, len(offsets))
    return table.take(pa.array(offsets))


def equal_values(left: pa.Array | pa.ChunkedArray, right: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Element-wise equality where two nulls are equal (and a null and a value are not)."""
    both_null = pc.and_(pc.is_null(left), pc.is_null(right))
    equal = pc.or_kleene(pc.fill_null(pc.equal(left, right), False), both_null)
    return np.asarray(equal.to_numpy(zero_copy_only=False), dtype=bool)


def in_input_order(example_ids: pa.Array | pa.ChunkedArray, parts: Sequence[pa.Table]) -> pa.Table:
    """Concatenate output parts (each with `example_id`) and order them as `example_ids`."""
    table = pa.concat_tables([part for part in parts if part.num_rows] or parts[:1])
    rank = pc.index_in(table.column("example_id"), value_set=pc.cast(example_ids, pa.string()))
    if _ascending(rank.to_numpy(zero_copy_only=False)):  # in order already: no copy of the texts
        return table
    return table.take(pc.sort_indices(rank))
