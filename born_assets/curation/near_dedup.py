"""Near-duplicate dedup: MinHash signatures, LSH candidates, one survivor per cluster.

Runs after exact dedup, over its survivors. Each row is signed over the texts `near_dedup.fields`
names (`text.minhash`, settings from `similarity`). LSH banding proposes candidates: two rows
whose signatures agree on all `rows_per_band` values of one of the `bands` bands. A candidate
pair counts only when its estimated similarity (the share of the whole signature that agrees) is
at least `near_dedup.threshold`.

Two lane rows that name different task ids of one benchmark family are different tasks by the
benchmark's own definition (DS-1000's perturbations, HumanEval/56 and /61), however alike their
texts: with `near_dedup.distinct_task_ids` (default on) they are never near duplicates of each
other. Imports carry row ids, not task ids, so their rows are always compared.

Survivors follow the exact-dedup rule: rows are visited in `dedup.survivor_order` (the
`survivor_rank` exact dedup gives each row); a row stays unless it is similar to a row that stayed
before it, in which case it is a near duplicate of the best-ranked such row. So each removed row
names a survivor at least `threshold` similar to it (no chains through removed rows), every
cluster keeps its best row, and the result depends on the rows, never on their input order.

Memory never holds the text (texts stream through `sign_batch` in bounded batches), nor every
row's signature (rows x bands x rows_per_band 32-bit values, 448 bytes a row with the default 112):
signatures go to disk as they arrive (`layout.SIGNATURES`), and memory keeps a 64-bit key per row
and band (112 bytes a row). Only the rows whose key in some band is another row's key can be near
duplicates; their signatures are read back and decided exactly as if every row were in memory
(equal band values always give equal keys, and the bands are compared again by value). Signing is
the cost, so the next run signs only the rows the written signatures do not know: a row's
sanitized texts are a function of its example id and of the code and policy versions the memo was
written under.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from born_assets.specs.policy import Policy
from born_assets.specs.similarity_policy import SimilarityPolicy, TextField, field_texts
from born_assets.store.memo import IdIndex, RowMemo, known_groups_narrow, remembered_stream
from born_assets.store.row_groups import GroupWriter, ParquetGroups
from born_assets.text.minhash import MinHashParams, Signatures, sign

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def sign_batch(
    fields: Sequence[TextField], params: MinHashParams, batch: pa.RecordBatch
) -> tuple[pa.Array, Signatures]:
    """The example ids and signatures of one batch (a module-level function, for workers)."""
    texts = [field_texts(batch, field) for field in fields]
    rows = [list(row) for row in zip(*texts, strict=True)]
    return batch.column("example_id"), sign(rows, params)


@dataclass(frozen=True)
class NearDuplicates:
    """Per row: the index of its survivor (-1: it stays) and their estimated similarity."""

    duplicate_of: IntArray
    similarity: FloatArray

    def counts(self) -> IntArray:
        """Per row: how many rows were removed as its near duplicates."""
        kept = self.duplicate_of[self.duplicate_of >= 0]
        return np.bincount(kept, minlength=len(self.duplicate_of)).astype(np.int64)


def _shared_labels(signatures: Signatures, settings: SimilarityPolicy) -> npt.NDArray[np.int32]:
    """Per row and band, a label shared with at least one other row (-1: the band is its own).

    Equal labels in a band mean equal band values. Labels are numbered from 0 in each band.
    """
    width = settings.rows_per_band
    labels = np.full((len(signatures), settings.bands), -1, dtype=np.int32)
    for band in range(settings.bands):
        values = np.ascontiguousarray(signatures.matrix[:, band * width : (band + 1) * width])
        keys = values.view(np.dtype((np.void, values.dtype.itemsize * width))).ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        shared = counts > 1
        numbers = np.where(shared, np.cumsum(shared) - 1, -1).astype(np.int32)
        labels[:, band] = numbers[inverse.ravel()]
    labels[signatures.empty] = -1
    return labels


_VISIT_CHUNK = 8_192
"""Rows whose labels are turned into Python lists at a time."""


class _KeptRows:
    """The kept rows under each band's labels: per band, a chain from the last kept row back.

    Two flat integer arrays per band (4 bytes a label and a row) instead of a list per label:
    a corpus with many shared bands must not hold a Python object per row and band.
    """

    def __init__(self, labels: npt.NDArray[np.int32]) -> None:
        rows = len(labels)
        self._heads = [array("i", [-1]) * int(column.max(initial=-1) + 1) for column in labels.T]
        self._chains = [array("i", [-1]) * rows for _ in range(labels.shape[1])]

    def under(self, labels: list[int]) -> list[int]:
        """The kept rows sharing one of `labels` (a row's labels, -1 for none), in row order."""
        found: set[int] = set()
        for heads, chain, label in zip(self._heads, self._chains, labels, strict=True):
            if label >= 0:
                kept = heads[label]
                while kept >= 0:
                    found.add(kept)
                    kept = chain[kept]
        return sorted(found)

    def add(self, row: int, labels: list[int]) -> None:
        """Keep `row` under its `labels`."""
        for heads, chain, label in zip(self._heads, self._chains, labels, strict=True):
            if label >= 0:
                chain[row] = heads[label]
                heads[label] = row


def find_near_duplicates(
    signatures: Signatures,
    ranks: IntArray,
    policy: Policy,
    tasks: Sequence[str | int | None] | None = None,
) -> NearDuplicates:
    """Decide every row: kept, or a near duplicate of a better-ranked kept row.

    Args:
        signatures: One signature per row (`sign`, near-dedup's shingles).
        ranks: Per row, its place under `dedup.survivor_order` (distinct; smaller is better).
        policy: `similarity` (bands), `near_dedup.threshold` and `.distinct_task_ids`.
        tasks: Per row, its benchmark task (`family:task_id`, or a number standing for one; None
            for an import's row). With `distinct_task_ids`, rows naming two different tasks are
            never near duplicates.

    Returns:
        Per row, the index of its survivor (-1 when kept) and the estimated similarity.
    """
    count = len(signatures)
    duplicate_of = np.full(count, -1, dtype=np.int64)
    similarity = np.zeros(count, dtype=np.float64)
    if count == 0:
        return NearDuplicates(duplicate_of, similarity)
    labels = _shared_labels(signatures, policy.similarity)
    visits = np.argsort(ranks, kind="stable")
    visits = visits[np.any(labels >= 0, axis=1)[visits]]  # only rows sharing a band can leave
    kept = _KeptRows(labels)
    matrix, threshold = signatures.matrix, policy.near_dedup.threshold
    task_of = list(tasks) if tasks is not None and policy.near_dedup.distinct_task_ids else None
    for start in range(0, len(visits), _VISIT_CHUNK):
        chunk = visits[start : start + _VISIT_CHUNK]
        for row, row_labels in zip(chunk.tolist(), labels[chunk].tolist(), strict=True):
            candidates = kept.under(row_labels)
            if task_of is not None and task_of[row] is not None:
                own = task_of[row]
                candidates = [c for c in candidates if task_of[c] is None or task_of[c] == own]
            if candidates:
                scores = np.mean(matrix[candidates] == matrix[row], axis=1)
                close = np.flatnonzero(scores >= threshold)
                if len(close):
                    best = close[np.argmin(ranks[candidates][close])]
                    duplicate_of[row] = candidates[best]
                    similarity[row] = round(float(scores[best]), 6)
                    continue
            kept.add(row, row_labels)
    return NearDuplicates(duplicate_of, similarity)


def decide_sharing(
    signatures: Path,
    keys: npt.NDArray[np.uint64],
    ranks: IntArray,
    policy: Policy,
    tasks: Sequence[str | int | None] | None = None,
) -> NearDuplicates:
    """`find_near_duplicates` over every row of `signatures`, holding only the rows that can leave.

    Args:
        signatures: A signature file (`SIGNATURE_COLUMNS`), one row per row decided.
        keys: Per row, its `band_keys`.
        ranks: Per row, its place under `dedup.survivor_order`.
        policy: As `find_near_duplicates` takes it.
        tasks: Per row, its benchmark task, as `find_near_duplicates` takes them.

    Returns:
        The decisions `find_near_duplicates` makes with every signature in memory. Only rows
        whose key in some band is shared can share that band's values with another row; those
        rows are read and decided among themselves, every band compared again by value.
    """
    sharing = _sharing(keys)
    found = find_near_duplicates(
        _read_signatures(signatures, sharing, policy.similarity.num_perm),
        ranks[sharing],
        policy,
        None if tasks is None else [tasks[row] for row in sharing.tolist()],
    )
    duplicate_of = np.full(len(keys), -1, dtype=np.int64)
    duplicate_of[sharing] = np.where(found.duplicate_of >= 0, sharing[found.duplicate_of], -1)
    similarity = np.zeros(len(keys), dtype=np.float64)
    similarity[sharing] = found.similarity
    return NearDuplicates(duplicate_of, similarity)


def threshold_text(policy: Policy) -> str:
    """The policy keys and values behind a near-duplicate verdict, as recorded with the row."""
    settings = policy.similarity
    return (
        f"near_dedup.threshold={policy.near_dedup.threshold:g}, "
        f"near_dedup.shingle_words={policy.near_dedup.shingle_words}, "
        f"similarity.bands={settings.bands}, similarity.rows_per_band={settings.rows_per_band}"
    )


NEAR_DECISIONS_SCHEMA = pa.schema(
    [
        pa.field("example_id", pa.string(), nullable=False),
        pa.field("near_duplicate_of", pa.string()),
        pa.field("estimated_similarity", pa.float64()),
        pa.field("near_duplicate_count", pa.int64(), nullable=False),
    ]
)


SIGNATURE_COLUMNS = ["signature", "empty"]
"""What the signature memo returns for a remembered row."""


def _signatures_schema(num_perm: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("example_id", pa.string(), nullable=False),
            pa.field("signature", pa.list_(pa.uint32(), num_perm), nullable=False),
            pa.field("empty", pa.bool_(), nullable=False),
        ]
    )


def _remembered_signatures(table: pa.Table, num_perm: int) -> Signatures:
    if not table.num_rows:
        return Signatures.none(num_perm)
    matrix = pc.list_flatten(table.column("signature")).to_numpy().astype(np.uint32)
    empty = table.column("empty").to_numpy().astype(bool)
    return Signatures(matrix.reshape(-1, num_perm), empty)


class _SignatureFile:
    """Signatures written as they arrive, in row groups of `batch_rows` (the next run's memo).

    A group that is one of `memo`'s (its rows, in its order: remembered signatures are the
    memo's rows) is copied as bytes instead of being encoded again (`store.row_groups`): a
    build that adds rows after the known ones rewrites only the groups they touch.
    """

    def __init__(
        self, path: Path, num_perm: int, batch_rows: int, memo: RowMemo | None = None
    ) -> None:
        self._schema = _signatures_schema(num_perm)
        options = {"compression": "zstd"}
        last = memo.groups() if memo is not None else None
        self._writer: GroupWriter | pq.ParquetWriter
        self._copying: tuple[RowMemo, ParquetGroups, GroupWriter] | None = None
        if memo is None or last is None:
            self._writer = pq.ParquetWriter(path, self._schema, **options)
        else:
            writer = self._writer = GroupWriter(path, self._schema, **options)
            if writer.accepts(last):
                self._copying = (memo, last, writer)
        self._num_perm, self._batch_rows = num_perm, batch_rows
        self._pending: list[pa.Table] = []
        self._pending_rows = self._written = 0

    def add(self, ids: pa.Array, signatures: Signatures) -> None:
        """Append the rows `ids`, signed `signatures`."""
        flat = pa.array(signatures.matrix.ravel(), pa.uint32())
        columns = [
            ids,
            pa.FixedSizeListArray.from_arrays(flat, self._num_perm),
            pa.array(signatures.empty, pa.bool_()),
        ]
        self._pending.append(pa.Table.from_arrays(columns, schema=self._schema))
        self._pending_rows += len(ids)
        if self._pending_rows >= self._batch_rows:
            self._write(self._pending_rows - self._pending_rows % self._batch_rows)

    def _write(self, rows: int) -> None:
        """Write the first `rows` pending rows, in groups of `batch_rows`."""
        pending = pa.concat_tables(self._pending) if self._pending else self._schema.empty_table()
        for start in range(0, rows, self._batch_rows) or [0]:
            self._write_group(pending.slice(start, min(self._batch_rows, rows - start)))
        self._pending = [pending.slice(rows)]
        self._pending_rows -= rows
        self._written += rows

    def _write_group(self, table: pa.Table) -> None:
        if self._copying is not None:
            memo, last, writer = self._copying
            group = memo.whole_group(table.select(["example_id"]))
            if group is not None:
                writer.copy(last, group)
                return
        self._writer.write_table(table)

    def close(self) -> None:
        """Write the rest and close (a file without rows holds one empty row group)."""
        if self._pending_rows or not self._written:
            self._write(self._pending_rows)
        self._writer.close()


_KEY_PRIME = np.uint64(0x100000001B3)
"""FNV-1a's 64-bit prime: `band_keys` xors each value of a band in and multiplies by it."""


def band_keys(matrix: npt.NDArray[np.uint32], settings: SimilarityPolicy) -> npt.NDArray[np.uint64]:
    """Per row and band, a 64-bit key of the band's values: equal values give equal keys.

    Keys can also be equal for different values (rarely); callers compare the values again.
    """
    values = matrix.reshape(len(matrix), settings.bands, settings.rows_per_band).astype(np.uint64)
    keys = np.zeros((len(matrix), settings.bands), dtype=np.uint64)
    for position in range(settings.rows_per_band):
        keys ^= values[:, :, position]
        keys *= _KEY_PRIME
    keys ^= keys >> np.uint64(29)
    return keys


def _sharing(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """The rows (ascending) whose key in some band is also another row's key in that band."""
    sharing = np.zeros(len(keys), dtype=bool)
    for band in range(keys.shape[1]):
        _, inverse, counts = np.unique(keys[:, band], return_inverse=True, return_counts=True)
        sharing |= (counts > 1)[inverse.ravel()]
    return np.flatnonzero(sharing)


def _read_signatures(path: Path, rows: npt.NDArray[np.int64], num_perm: int) -> Signatures:
    """The signatures of `rows` (ascending positions in `path`), read a row group at a time."""
    found = Signatures(
        np.empty((len(rows), num_perm), dtype=np.uint32), np.empty(len(rows), dtype=bool)
    )
    parquet = pq.ParquetFile(path)
    first = done = 0
    for group in range(parquet.num_row_groups):
        size = parquet.metadata.row_group(group).num_rows
        end = int(np.searchsorted(rows, first + size))
        if end > done:
            table = parquet.read_row_group(group, columns=SIGNATURE_COLUMNS)
            wanted = _remembered_signatures(table.take(pa.array(rows[done:end] - first)), num_perm)
            found.matrix[done:end] = wanted.matrix
            found.empty[done:end] = wanted.empty
            done = end
        first += size
    return found


def _signed_rows(
    texts: Sequence[Path],
    candidates: pa.Array,
    policy: Policy,
    batch_rows: int,
    workers: int,
    memo: RowMemo,
    out: _SignatureFile,
) -> tuple[pa.Array, npt.NDArray[np.uint64], int]:
    """The candidates' example ids and band keys in the texts' order, and how many `memo` gave.

    Texts stream in batches; rows `memo` remembers (by example id) are not signed again. Each
    batch's signatures go to `out` and their band keys into one array of a row per candidate:
    no signature is kept in memory.

    Raises:
        ValueError: the texts hold more candidate rows than there are candidates.
    """
    fields = policy.near_dedup.fields
    columns = ["example_id", *(field.column for field in fields)]
    wanted = IdIndex(candidates)

    def known(group: pa.Table) -> bool:
        ids = group.column("example_id")
        return bool(np.all(memo.find(ids.filter(pa.array(wanted.contains(ids)))) >= 0))

    batches = (
        batch.filter(pa.array(wanted.contains(batch.column("example_id"))))
        for batch in known_groups_narrow(
            texts, batch_rows, columns, ["example_id"], known, "near-dedup signatures"
        )
    )
    settings = policy.similarity
    worker = partial(sign_batch, fields, settings.with_shingles(policy.near_dedup.shingle_words))
    ids: list[pa.Array] = []  # Arrow, not Python strings: ~31 bytes an id instead of ~85
    keys = np.zeros((len(candidates), settings.bands), dtype=np.uint64)
    remembered = arrived = 0

    def place(batch_ids: pa.Array, signatures: Signatures) -> None:
        nonlocal arrived
        start, end = arrived, arrived + len(batch_ids)
        if end > len(keys):
            raise ValueError("near dedup: a surviving example has more than one text row")
        batch_ids = batch_ids.cast(pa.string())
        ids.append(batch_ids)
        out.add(batch_ids, signatures)
        keys[start:end] = band_keys(signatures.matrix, settings)
        arrived = end

    for part in remembered_stream(worker, batches, memo, workers):
        remembered_rows = _remembered_signatures(part.remembered, settings.num_perm)
        parts = [part.computed, (part.known.column("example_id"), remembered_rows)]
        place(*_in_order(part.example_ids, parts))  # as a build from scratch writes them
        remembered += part.remembered.num_rows
    return pa.concat_arrays(ids) if ids else pa.array([], pa.string()), keys[:arrived], remembered


def _in_order(
    order: pa.Array | pa.ChunkedArray, parts: Sequence[tuple[pa.Array, Signatures]]
) -> tuple[pa.Array, Signatures]:
    """The signed rows of `parts` together, in the order of `order` (a batch's example ids)."""
    ids = pa.concat_arrays([part_ids.cast(pa.string()) for part_ids, _ in parts])
    signatures = [signed for _, signed in parts]
    at = pc.index_in(ids, value_set=pa.array(order, pa.string())).to_numpy(zero_copy_only=False)
    permutation = np.argsort(at, kind="stable")
    matrix = np.concatenate([signed.matrix for signed in signatures])
    empty = np.concatenate([signed.empty for signed in signatures])
    return ids.take(pa.array(permutation)), Signatures(matrix[permutation], empty[permutation])


def _task_numbers(ranked: pa.Table, example_ids: pa.Array) -> list[int | None]:
    """Per id of `example_ids` (all of `ranked`), a number naming its benchmark task (`task`).

    None where it has none. Equal numbers, equal tasks: numbers instead of the task texts keep
    no Python string per row (a dict of a million ids and tasks held 210 MB).
    """
    if "task" not in ranked.column_names:
        return [None] * len(example_ids)
    numbers = pc.dictionary_encode(ranked.column("task").combine_chunks()).indices
    at = IdIndex(ranked.column("example_id")).positions(example_ids)
    numbered: list[int | None] = numbers.take(pa.array(at)).to_pylist()
    return numbered


def near_decisions(
    ranked: pa.Table,
    texts: Sequence[Path],
    policy: Policy,
    batch_rows: int,
    memo: RowMemo,
    signatures_out: Path,
    workers: int = 1,
) -> tuple[pa.Table, int]:
    """Near-dedup the exact survivors; one `NEAR_DECISIONS_SCHEMA` row each, by `example_id`.

    Args:
        ranked: The rows exact dedup kept, sorted by `example_id`: `example_id`,
            `survivor_rank` (`dedup.DEDUP_SCHEMA`) and, optionally, each row's `task`.
        texts: Parquet files with `example_id` and the `near_dedup.fields` texts (sanitized).
        policy: `near_dedup`, `similarity` and `dedup.survivor_order`.
        batch_rows: Rows per text batch.
        memo: The last run's signatures (`RowMemo` of `layout.SIGNATURES`), or an empty memo.
        signatures_out: Where this run's signatures are written, for the next run.
        workers: Processes that sign batches.

    Returns:
        The decisions, and how many signatures came from `memo`.

    Raises:
        ValueError: `ranked` is not sorted by a unique `example_id`, or a row has no text row.
    """
    candidates = ranked.column("example_id").combine_chunks()
    if len(candidates) > 1 and not pc.all(pc.less(candidates[:-1], candidates[1:])).as_py():
        raise ValueError("near dedup: the ranked rows are not sorted by a unique example_id")
    out = _SignatureFile(signatures_out, policy.similarity.num_perm, batch_rows, memo)
    try:
        # Kept in the texts' order: the next run asks the memo in that order, row group by row
        # group. Sorted by id, each batch of the next run touched every row group of the memo.
        arrived, keys, remembered = _signed_rows(
            texts, candidates, policy, batch_rows, workers, memo, out
        )
    finally:
        out.close()
    order = pc.sort_indices(arrived).to_numpy()
    ids = arrived.take(pa.array(order))
    if not ids.equals(candidates):
        raise ValueError("near dedup: some surviving examples have no text row")
    # The rows are decided in the texts' order (the decisions do not depend on it).
    place = np.empty(len(order), dtype=np.int64)  # arrived row -> its place in id order
    place[order] = np.arange(len(order))
    sorted_ranks = ranked.column("survivor_rank").to_numpy().astype(np.int64)
    tasks = _task_numbers(ranked, arrived)
    found = decide_sharing(signatures_out, keys, sorted_ranks[place], policy, tasks)
    duplicate_of = found.duplicate_of[order]
    removed = duplicate_of >= 0
    decisions = pa.table(
        {
            "example_id": ids,
            "near_duplicate_of": arrived.take(pa.array(duplicate_of, mask=~removed)),
            "estimated_similarity": pa.array(found.similarity[order], mask=~removed),
            "near_duplicate_count": pa.array(found.counts()[order]),
        },
        schema=NEAR_DECISIONS_SCHEMA,
    )
    return decisions, remembered
