"""A release's similarity index: every released row's MinHash signature, built once per release.

`build_index` streams the release shards in batches (the texts `similarity.index_fields` names,
by default the prompt: the task a row teaches), signs them on worker processes
(`text.minhash`), and publishes `similarity/<version>/` atomically: `rows.parquet`
(`SimilarityIndexRecord`: origin, teacher, family, source line and a one-line preview),
`signatures.npy` (row for row) and `index.json` (the MinHash settings and the hashes of the
release and policy it was built from). With `similarity.embedding_model` set it also writes
`embeddings.npy`: the same texts as sentence embeddings (`text.embedding`, the optional
`embedding` extra). `born similar` then reads the index and never the text.
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
from born_assets.schemas.identity import sha256_hex
from born_assets.schemas.release import SimilarityIndexRecord
from born_assets.specs.policy import Policy
from born_assets.specs.similarity_policy import TextField, field_texts
from born_assets.store.atomic import atomic_dir
from born_assets.store.parallel import ordered_map
from born_assets.store.parquet import ParquetSink, iter_parquet_batches
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

    Raises:
        FileNotFoundError: the release is not published.
    """
    release = data.release(version)
    if not release.is_published():
        raise FileNotFoundError(f"release {version} is not published under {release.path}")
    settings = policy.similarity
    fields = settings.index_fields
    columns = [*META_COLUMNS, *(f.column for f in fields)]
    batches = iter_parquet_batches(
        release.shards(), batch_rows, columns, f"similarity index {version}"
    )
    worker = partial(index_batch, fields, settings.params, settings.embedding_model)
    target = data.similarity_index(version)
    with atomic_dir(target.path) as staging:
        folder = SimilarityIndexDir(staging)
        rows = _row_count(release.shards())
        signatures = _MatrixFile(folder.signatures, rows, np.uint32, settings.num_perm)
        vectors = _MatrixFile(folder.embeddings, rows, np.float32, 0)
        with ParquetSink(folder.rows, SimilarityIndexRecord, batch_rows) as sink:
            for indexed in ordered_map(worker, batches, workers):
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
    return info
