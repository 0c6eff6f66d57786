"""Contamination by paraphrase: MinHash similarity between training prompts and eval texts.

Word n-grams of 13 miss a reworded eval prompt or one whose identifiers were renamed: it keeps
the words, not their runs. Here every eval text (each indexed field of each item, the keys of
`EvalIndex.texts`) is signed once with the policy's `similarity` MinHash (short shingles:
`similarity.shingle_words`), and each batch of training rows is signed on its prompt and
compared with all of them. A row whose similarity to an eval text reaches
`contamination.similarity_threshold` gets a `similar` match (the deciding match when no other
method fires); every eval text's `contamination.nearest_rows` most similar rows are kept, blocked
or not, for the `nearest` table of the report. Rows remembered from the last run keep their
verdicts; their similarities are measured again unless the last run's nearest table can be
carried forward (`NearestRows.seed`, see `contamination_stage`).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from born_assets.governance.eval_index import EvalText, Match
from born_assets.schemas.derive import arrow_schema
from born_assets.schemas.governance import ContaminationNearestRecord
from born_assets.schemas.vocabulary import ContaminationMethod
from born_assets.specs.policy import ContaminationPolicy
from born_assets.text.minhash import MinHashParams, Signatures, pairwise_similarities, sign

FloatMatrix = npt.NDArray[np.float64]


def similarity_threshold_text(policy: ContaminationPolicy, params: MinHashParams) -> str:
    """The policy keys and values behind a `similar` verdict, as recorded with the row."""
    return (
        f"contamination.similarity_threshold={policy.similarity_threshold:g}, "
        f"similarity.shingle_words={params.shingle_words}"
    )


@dataclass(frozen=True)
class EvalSimilarity:
    """The eval texts' signatures, and how to compare a batch of training prompts with them."""

    params: MinHashParams
    texts: Sequence[EvalText]
    signatures: Signatures

    @classmethod
    def build(
        cls, texts: Sequence[EvalText], raw: Sequence[str], params: MinHashParams
    ) -> EvalSimilarity:
        """Sign every eval text (`raw[i]` is the text of `texts[i]`)."""
        return cls(params, texts, sign([[text] for text in raw], params))

    def measure(self, prompts: Sequence[str | None]) -> FloatMatrix:
        """Similarity of each prompt (rows) to each eval text (columns)."""
        return pairwise_similarities(
            sign([[p or ""] for p in prompts], self.params), self.signatures
        )

    def matches(self, similarities: FloatMatrix, threshold: float | None) -> list[list[Match]]:
        """Per row, a `similar` match for each eval text at or above `threshold` (None: none)."""
        if threshold is None:
            return [[] for _ in range(len(similarities))]
        return [
            [
                Match.of(self.texts[key], ContaminationMethod.SIMILAR, round(float(row[key]), 6))
                for key in np.flatnonzero(row >= threshold).tolist()
            ]
            for row in similarities
        ]


@dataclass
class NearestRows:
    """For each eval text, the `limit` most similar training rows seen so far (bounded).

    Rows rank by similarity (rounded to 6 decimals, as stored), then by smaller example id; a row
    similar to nothing (0) is never listed. The ranking is a total order, so the list does not
    depend on how the rows were batched, and the last run's list (`seed`) merged with new rows
    is the list of all of them.
    """

    limit: int
    threshold: float | None
    best: dict[int, list[tuple[float, str, str]]] = field(default_factory=dict)

    def add(self, ids: Sequence[str], origins: Sequence[str], similarities: FloatMatrix) -> None:
        """Take one batch's similarities (rows x eval texts) into account."""
        if self.limit == 0 or len(ids) == 0 or similarities.shape[1] == 0:
            return
        rounded = np.round(similarities, 6)
        take = min(self.limit, len(ids))
        # Per eval text, every row tied with its `take`-th best: ties are decided by id below.
        floor = -np.partition(-rounded, take - 1, axis=0)[take - 1]
        eligible = (rounded >= floor) & (rounded > 0)
        for row, key in zip(*np.nonzero(eligible), strict=True):
            self._offer(int(key), (float(rounded[row, key]), _reverse(ids[row]), origins[row]))

    def seed(self, rows: pa.Table, texts: Sequence[EvalText]) -> None:
        """Start from a `ContaminationNearestRecord` table written under the same eval texts."""
        keys = {(t.eval_id, t.item_id, t.field or ""): key for key, t in enumerate(texts)}
        for row in rows.to_pylist():
            key = keys[(row["eval_id"], row["eval_item_id"], row["eval_field"])]
            self._offer(key, (row["similarity"], _reverse(row["example_id"]), row["origin_id"]))

    def _offer(self, key: int, item: tuple[float, str, str]) -> None:
        # min-heap on (similarity, reversed id order): the weakest entry is popped first
        heap = self.best.setdefault(key, [])
        if len(heap) < self.limit:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)

    def table(self, texts: Sequence[EvalText]) -> pa.Table:
        """One `ContaminationNearestRecord` row per eval text and rank, rows with a shingle only."""
        rows = []
        for key, text in enumerate(texts):
            ranked = sorted(self.best.get(key, []), reverse=True)
            for rank, (score, reversed_id, origin) in enumerate(ranked, start=1):
                rows.append(
                    {
                        "eval_id": text.eval_id,
                        "eval_item_id": text.item_id,
                        "eval_field": text.field or "",
                        "rank": rank,
                        "example_id": _reverse(reversed_id),
                        "origin_id": origin,
                        "similarity": round(score, 6),
                        "is_blocked": self.threshold is not None and score >= self.threshold,
                    }
                )
        return pa.Table.from_pylist(rows, schema=arrow_schema(ContaminationNearestRecord))


def _reverse(example_id: str) -> str:
    """An id whose order is reversed (ties in similarity go to the smaller example_id)."""
    return "".join(chr(0x10FFFF - ord(c)) for c in example_id)
