"""A release's similarity index: every released row's MinHash signature, built once per release.

`build_index` streams the release shards in batches (the texts `similarity.index_fields` names,
by default the prompt: the task a row teaches), signs them on worker processes
(`text.minhash`), and publishes `similarity/<version>/` atomically: `rows.parquet`
(`SimilarityIndexRecord`: origin, teacher, family, source line and a one-line preview),
`signatures.npy` (row for row) and `index.json` (the MinHash settings and the hashes of the
release and policy it was built from). With `similarity.embedding_model` set it also writes
`embeddings.npy`: the same texts as sentence embeddings (`text.embedding`, the optional
`embedding` extra). `born similar` then reads the index and never the text.
A row that a former index built with the same code and settings holds (`memo.json` records
them) is taken from it, neither read nor signed again: the release's own index before an
erasure rewrote the release, else the previous release's. The bytes are the same either way.
Memory: batches of text; the matrices (448 bytes a row with 112 permutations, 1,536 more with
384-dimension embeddings) go to their files batch by batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from born_assets.layout import DataDir, SimilarityIndexDir
from born_assets.release.changes import previous_release
from born_assets.schemas.identity import sha256_hex
from born_assets.schemas.release import SimilarityIndexRecord
from born_assets.specs.policy import Policy
from born_assets.specs.similarity_policy import TextField, field_texts
from born_assets.store.atomic import atomic_dir
from born_assets.store.memo import (
    MemoBatch,
    RowMemo,
    code_version,
    known_groups_narrow,
    remembered_stream,
    write_versions,
)
from born_assets.store.parquet import ParquetSink
from born_assets.store.unchanged import record
from born_assets.text.embedding import Vectors, embed
from born_assets.text.minhash import MinHashParams, Signatures, sign

PREVIEW_CHARS = 120
META_COLUMNS = [
    "example_id",
    "origin_kind",
    "origin_id",
    "teacher_model",
    "source_benchmark",
    "source_file",
    "source_line",
]


def preview(text: str) -> str:
    """A text on one line, whitespace collapsed, cut at `PREVIEW_CHARS` characters."""
    line = " ".join(text.split())
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "\u2026"


@dataclass(frozen=True)
class IndexedBatch:
    """One batch of the index: its rows, signatures and (when asked for) embeddings."""

    rows: pa.Table
    signatures: Signatures
    embeddings: Vectors | None


def query_text(texts: Sequence[str]) -> str:
    """The one text a row's (or a query's) field texts are embedded as."""
    return "\n".join(texts)


def index_batch(
    fields: tuple[TextField, ...],
    params: MinHashParams,
    embedding_model: str | None,
    batch: pa.RecordBatch,
) -> IndexedBatch:
    """The index rows, signatures and embeddings of one batch of released rows (in workers)."""
    texts = [field_texts(batch, field) for field in fields]
    rows = [list(row) for row in zip(*texts, strict=True)]
    signatures = sign(rows, params)
    columns = {name: batch.column(name) for name in META_COLUMNS}
    columns["preview"] = pa.array([preview(query_text(row)) for row in rows], pa.string())
    columns["has_shingles"] = pa.array(~signatures.empty)
    vectors = embed([query_text(row) for row in rows], embedding_model) if embedding_model else None
    return IndexedBatch(pa.table(columns), signatures, vectors)


def _row_count(shards: Sequence[Path]) -> int:
    return sum(pq.ParquetFile(shard).metadata.num_rows for shard in shards)


class _MatrixFile:
    """A `.npy` matrix of `rows` rows written batch by batch, never whole in memory.

    The header goes out with the first batch, which sets the width; the file's bytes are what
    `np.save` writes for the whole matrix. Without a batch, `close` writes an empty matrix
    (0 x `empty_width`).
    """

    def __init__(self, path: Path, rows: int, dtype: type[np.generic], empty_width: int) -> None:
        self.path, self.rows, self.written = path, rows, 0
        self._dtype, self._empty_width = np.dtype(dtype), empty_width
        self._handle: BinaryIO | None = None

    def write(self, matrix: npt.NDArray[Any]) -> None:
        if self._handle is None:
            self._handle = self.path.open("wb")
            header = {
                "descr": np.lib.format.dtype_to_descr(self._dtype),
                "fortran_order": False,
                "shape": (self.rows, matrix.shape[1]),
            }
            np.lib.format.write_array_header_1_0(self._handle, header)
        self._handle.write(np.ascontiguousarray(matrix, dtype=self._dtype).tobytes())
        self.written += len(matrix)

    def close(self) -> None:
        """Close the file (or write the empty matrix); every row must have been written."""
        if self._handle is None:
            np.save(self.path, np.zeros((0, self._empty_width), self._dtype), allow_pickle=False)
        else:
            self._handle.close()
        if self.written != self.rows:
            raise ValueError(f"{self.path}: {self.written} rows written of {self.rows}")


@dataclass(frozen=True)
class IndexInfo:
    """`index.json`: how the index was signed and what it was built from."""

    version: str
    rows: int
    fields: list[str]
    shingle_words: int
    num_perm: int
    seed: int
    release_json_sha256: str
    policy_sha256: str
    embedding_model: str | None = None

    @property
    def params(self) -> MinHashParams:
        """The settings a query must be signed with."""
        return MinHashParams(self.shingle_words, self.num_perm, self.seed)

    @classmethod
    def read(cls, folder: SimilarityIndexDir) -> IndexInfo:
        """Read `index.json`."""
        document: dict[str, Any] = json.loads(folder.info.read_text(encoding="utf-8"))
        return cls(**document)


def build_index(
    data: DataDir, version: str, policy: Policy, batch_rows: int, workers: int = 1
) -> IndexInfo:
    """Sign every row of published release `version`; publish its index atomically.

    A row that a former index (`_Memo`) holds is taken from it, unsigned and its texts unread.

    Raises:
        FileNotFoundError: the release is not published.
    """
    release = data.release(version)
    if not release.is_published():
        raise FileNotFoundError(f"release {version} is not published under {release.path}")
    settings = policy.similarity
    fields = settings.index_fields
    columns = [*META_COLUMNS, *(f.column for f in fields)]
    versions = _memo_versions(policy)
    memo = _Memo.find(data, version, versions, settings.num_perm, settings.embedding_model)
    batches = known_groups_narrow(
        release.shards(),
        batch_rows,
        columns,
        META_COLUMNS,
        lambda rows: bool((memo.rows.find(rows.column("example_id")) >= 0).all()),
        f"similarity index {version}",
    )
    worker = partial(index_batch, fields, settings.params, settings.embedding_model)
    target = data.similarity_index(version)
    with atomic_dir(target.path) as staging:
        folder = SimilarityIndexDir(staging)
        rows = _row_count(release.shards())
        signatures = _MatrixFile(folder.signatures, rows, np.uint32, settings.num_perm)
        vectors = _MatrixFile(folder.embeddings, rows, np.float32, 0)
        with ParquetSink(folder.rows, SimilarityIndexRecord, batch_rows) as sink:
            for part in remembered_stream(worker, batches, memo.rows, workers):
                indexed = memo.combined(part)
                sink.write_batch(indexed.rows)
                signatures.write(indexed.signatures.matrix)
                if indexed.embeddings is not None:
                    vectors.write(indexed.embeddings)
        signatures.close()
        if settings.embedding_model:
            vectors.close()
        info = IndexInfo(
            version=version,
            rows=rows,
            fields=[f.value for f in fields],
            shingle_words=settings.shingle_words,
            num_perm=settings.num_perm,
            seed=settings.seed,
            release_json_sha256=sha256_hex(release.release_json.read_bytes()),
            policy_sha256=policy.content_hash,
            embedding_model=settings.embedding_model,
        )
        folder.info.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
        write_versions(staging, versions)
        # the hashes of what was written, without which no later index takes rows from this one
        record(staging, [release.release_json], versions)
    return info


def _memo_versions(policy: Policy) -> dict[str, str]:
    """What an index row depends on besides the row itself (which its example id names)."""
    settings = policy.similarity
    return {
        "code": code_version(),
        "fields": ",".join(f.value for f in settings.index_fields),
        "shingle_words": str(settings.shingle_words),
        "num_perm": str(settings.num_perm),
        "seed": str(settings.seed),
        "embedding_model": settings.embedding_model or "",
    }


_MEMO_COLUMNS = ("preview", "has_shingles")


@dataclass(frozen=True)
class _Memo:
    """A former index built with the same code and settings: its rows, found by example id.

    The release's own former index (before an erasure rewrote the release) or the previous
    release's. Its signature and embedding matrices are memory-mapped: only the rows asked for
    are read.
    """

    rows: RowMemo
    signatures: npt.NDArray[np.uint32]
    embeddings: npt.NDArray[np.float32] | None

    @classmethod
    def find(
        cls,
        data: DataDir,
        version: str,
        versions: dict[str, str],
        num_perm: int,
        embedding_model: str | None,
    ) -> _Memo:
        """The first usable former index, or an empty memo."""
        previous = previous_release(data, version)
        names = [version, *([previous.name] if previous is not None else [])]
        for name in names:
            folder = data.similarity_index(name)
            rows = RowMemo.open(folder.path, SimilarityIndexDir.ROWS, versions, _MEMO_COLUMNS)
            if rows.path is None or not folder.is_built():
                continue
            signatures = _mapped(folder.signatures)
            embeddings = _mapped(folder.embeddings) if embedding_model else None
            matrices = [signatures, *([embeddings] if embedding_model else [])]
            whole = all(m is not None and len(m) == len(rows) for m in matrices)
            if whole and signatures is not None and signatures.shape[1:] == (num_perm,):
                return cls(rows, signatures, embeddings)
        return cls(RowMemo(None, _MEMO_COLUMNS), np.zeros((0, num_perm), np.uint32), None)

    def combined(self, part: MemoBatch[IndexedBatch]) -> IndexedBatch:
        """One batch of the index: the rows signed now and those the memo held, in input order."""
        computed = part.computed
        if not part.known.num_rows:
            return computed
        positions = self.rows.find(part.example_ids)
        known = positions >= 0
        at = positions[known]  # the memo's rows for `part.known`, in the same order
        held = {name: part.known.column(name) for name in META_COLUMNS}
        held.update({name: part.remembered.column(name) for name in _MEMO_COLUMNS})
        order = np.argsort(
            np.concatenate([np.flatnonzero(~known), np.flatnonzero(known)]), kind="stable"
        )
        rows = pa.concat_tables([computed.rows, pa.table(held).cast(computed.rows.schema)])
        matrix = np.concatenate([computed.signatures.matrix, self.signatures[at]])[order]
        empty = np.concatenate([computed.signatures.empty, ~_bools(part.remembered)])[order]
        vectors = None
        if computed.embeddings is not None and self.embeddings is not None:
            vectors = np.concatenate([computed.embeddings, self.embeddings[at]])[order]
        return IndexedBatch(rows.take(pa.array(order)), Signatures(matrix, empty), vectors)


def _mapped(path: Path) -> npt.NDArray[Any] | None:
    """A `.npy` matrix, memory-mapped; None when it is missing or not whole."""
    try:
        matrix: npt.NDArray[Any] = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    return matrix if matrix.ndim == 2 else None


def _bools(remembered: pa.Table) -> npt.NDArray[np.bool_]:
    return np.asarray(remembered.column("has_shingles").to_numpy(zero_copy_only=False), dtype=bool)
