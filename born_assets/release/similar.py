"""`born similar`: the released rows most similar to a text, from stored similarity indexes.

A query text is signed with the settings the index was built with (`index.json`), compared with
every signature of the index (the matrix is memory-mapped, positions compared one at a time), and
the `k` best rows come back with their estimated Jaccard similarity (`score`), ties broken by
example_id. Rows with no word never match. With `method="embedding"` the query is embedded by
the model the index names and scored by cosine similarity against `embeddings.npy` instead
(an index built with `similarity.embedding_model`). With several indexes (`--all`) the same example
counts once, in its newest release. Nothing is rebuilt: a release without an index is an error
that says how to build it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc
import pyarrow.parquet as pq

from born_assets.layout import ROWS, Asset, DataDir, ReleaseDir, SimilarityIndexDir
from born_assets.release.similarity_index import IndexInfo, query_text
from born_assets.schemas.identity import sha256_hex
from born_assets.text.embedding import embed
from born_assets.text.minhash import Signatures, pairwise_similarities, sign


class Method(StrEnum):
    """How `born similar` scores rows: estimated Jaccard (MinHash) or embedding cosine."""

    MINHASH = "minhash"
    EMBEDDING = "embedding"


@dataclass(frozen=True)
class Hit:
    """One similar released row."""

    score: float
    release: str
    example_id: str
    origin: str
    teacher_model: str
    family: str
    source: str
    preview: str


class MissingIndex(FileNotFoundError):
    """A release has no similarity index (or there is no release)."""


@dataclass(frozen=True)
class LoadedIndex:
    """One release's index: its signatures memory-mapped, its rows read only where a hit is."""

    folder: SimilarityIndexDir
    info: IndexInfo
    rows: pq.ParquetFile
    signatures: Signatures

    @classmethod
    def open(cls, folder: SimilarityIndexDir) -> LoadedIndex:
        """Open a built index (reads one boolean column, not the rows)."""
        if not folder.is_built():
            raise MissingIndex(
                f"release {folder.version} has no similarity index ({folder.path}); build it with "
                f"`born release` or materialize similarity_index for partition {folder.version}"
            )
        info = IndexInfo.read(folder)
        matrix = np.load(folder.signatures, mmap_mode="r", allow_pickle=False)
        rows = pq.ParquetFile(folder.rows)
        has = rows.read(columns=["has_shingles"]).column(0)
        empty = pc.invert(has).to_numpy(zero_copy_only=False)
        return cls(folder, info, rows, Signatures(matrix, empty))

    def stale(self, data: DataDir) -> str | None:
        """Why the index no longer matches its release (rewritten since, e.g. by an erasure)."""
        release_json = data.release(self.info.version).release_json
        if not release_json.exists():
            return f"release {self.info.version} is no longer published"
        if sha256_hex(release_json.read_bytes()) != self.info.release_json_sha256:
            return (
                f"release {self.info.version} changed after its similarity index was built "
                f"(release.json differs): rebuild similarity_index for partition "
                f"{self.info.version}"
            )
        return None

    def _row(self, row: int) -> dict[str, Any]:
        """Row `row` of the index, read from its row group only."""
        metadata = self.rows.metadata
        for group in range(metadata.num_row_groups):
            size = metadata.row_group(group).num_rows
            if row < size:
                return self.rows.read_row_group(group).slice(row, 1).to_pylist()[0]
            row -= size
        raise IndexError(f"row {row} is past the end of {self.folder.rows}")

    def scores(self, texts: Sequence[str], method: Method) -> npt.NDArray[np.float64]:
        """Every row's similarity to a query (its texts) by `method`.

        Raises:
            MissingIndex: `method` is embedding and the index holds no embeddings.
        """
        if method is Method.MINHASH:
            query = sign([list(texts)], self.info.params)
            return pairwise_similarities(self.signatures, query)[:, 0]
        if self.info.embedding_model is None:
            raise MissingIndex(
                f"the similarity index of release {self.info.version} holds no embeddings: set "
                "similarity.embedding_model in the policy and rebuild similarity_index for "
                f"partition {self.info.version}"
            )
        matrix = np.load(self.folder.embeddings, mmap_mode="r", allow_pickle=False)
        query_vector = embed([query_text(texts)], self.info.embedding_model)[0]
        return np.asarray(matrix @ query_vector, dtype=np.float64)

    def best(self, texts: Sequence[str], k: int, method: Method = Method.MINHASH) -> list[Hit]:
        """The `k` rows most similar to a query (its texts), best first (ties: smaller id)."""
        scores = self.scores(texts, method)
        top = np.arange(len(scores))
        if k < len(scores):
            cutoff = np.partition(scores, len(scores) - k)[len(scores) - k]
            top = np.flatnonzero(scores >= cutoff)  # ties at the cutoff are decided by id
        hits = [self.hit(int(row), float(scores[row])) for row in top]
        return sorted(hits, key=lambda hit: (-hit.score, hit.example_id))[:k]

    def hit(self, row: int, score: float) -> Hit:
        """Row `row` of the index as a result."""
        values = self._row(row)
        return Hit(
            score=round(score, 4),
            release=self.info.version,
            example_id=values["example_id"],
            origin=f"{values['origin_kind']}:{values['origin_id']}",
            teacher_model=values["teacher_model"],
            family=values["source_benchmark"],
            source=f"{values['source_file']}:{values['source_line']}",
            preview=values["preview"],
        )

    def row_of(self, example_id: str) -> int | None:
        """The index row of an example, if it is in this release."""
        ids = self.rows.read(columns=["example_id"]).column(0)
        found = pc.index(ids, example_id).as_py()
        return None if found < 0 else int(found)


def choose_indexes(data: DataDir, release: str | None, every: bool) -> list[LoadedIndex]:
    """The index of `release`, of the newest published release, or of every one (oldest first)."""
    published = sorted(data.published_releases(), key=_built_at)
    if release is not None:
        chosen = [data.release(release)]
    elif every:
        chosen = published
    else:
        chosen = published[-1:]
    if not chosen:
        raise MissingIndex(f"no published release under {data.releases}: run `born release`")
    return [LoadedIndex.open(data.similarity_index(r.version)) for r in chosen]


def _built_at(release: ReleaseDir) -> tuple[str, str]:
    document = json.loads(release.release_json.read_text(encoding="utf-8"))
    return str(document.get("built_at", "")), release.version


def similar(
    indexes: Sequence[LoadedIndex], texts: Sequence[str], k: int, method: Method = Method.MINHASH
) -> list[Hit]:
    """The `k` rows of `indexes` (oldest first) most similar to `texts`; an example once, newest."""
    newest: dict[str, Hit] = {}
    for index in indexes:
        for hit in index.best(texts, k, method):
            newest[hit.example_id] = hit
    return sorted(newest.values(), key=lambda hit: (-hit.score, hit.example_id))[:k]


class UnknownExample(LookupError):
    """No release searched and no warehouse table holds the example id asked for."""


def text_of(indexes: Sequence[LoadedIndex], data: DataDir, example_id: str) -> list[str]:
    """The indexed text of an example: from a release's shards, else the sanitized warehouse.

    Raises:
        UnknownExample: no release searched and no warehouse table holds the example.
    """
    for index in reversed(indexes):
        if index.row_of(example_id) is not None:
            shards = data.release(index.info.version).shards()
            if (found := _text_in(shards, example_id, index.info.fields)) is not None:
                return found
    sanitized = data.stage(Asset.SANITIZED) / ROWS
    fields = list(indexes[-1].info.fields) if indexes else ["prompt"]
    if sanitized.exists() and (found := _text_in([sanitized], example_id, fields)) is not None:
        return found
    searched = ", ".join(index.info.version for index in indexes) or "no release"
    raise UnknownExample(
        f"no released row with id {example_id!r} (searched {searched}), nor in the warehouse"
    )


def _text_in(paths: Sequence[Path], example_id: str, fields: Sequence[str]) -> list[str] | None:
    table = pq.read_table(
        list(paths), columns=list(fields), filters=[("example_id", "=", example_id)]
    )
    if table.num_rows == 0:
        return None
    return [str(table.column(f)[0].as_py() or "") for f in fields]


def hit_dict(hit: Hit) -> dict[str, object]:
    """A hit as the JSON object `born similar --json` prints."""
    return asdict(hit)
