"""Contamination by paraphrase: MinHash similarity between training prompts and eval texts.

Word n-grams of 13 miss a reworded eval prompt or one whose identifiers were renamed: it keeps
the words, not their runs. Here every eval text (each indexed field of each item, the keys of
`EvalIndex.texts`) is signed once with the policy's `similarity` MinHash (short shingles:
`similarity.shingle_words`), and each batch of training rows is signed on its prompt and
compared with all of them. A row whose similarity to an eval text reaches
`contamination.similarity_threshold` gets a `similar` match (the deciding match when no other
method fires); every eval text's `contamination.nearest_rows` most similar rows are kept, blocked
or not, for the `nearest` table of the report. The batch's similarities are measured on every
run (rows remembered from the last run keep their verdicts, but still count for the nearest).
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
    """For each eval text, the `limit` most similar training rows seen so far (bounded)."""

    limit: int
    threshold: float | None
    best: dict[int, list[tuple[float, str, str]]] = field(default_factory=dict)

    def add(self, ids: Sequence[str], origins: Sequence[str], similarities: FloatMatrix) -> None:
        """Take one batch's similarities (rows x eval texts) into account."""
        if self.limit == 0 or len(ids) == 0:
            return
        take = min(self.limit, len(ids))
        top = np.argpartition(-similarities, take - 1, axis=0)[:take]
        for key in range(similarities.shape[1]):
            heap = self.best.setdefault(key, [])
            for row in top[:, key].tolist():
                # min-heap on (similarity, reversed id order): the weakest entry is popped first
                item = (float(similarities[row, key]), _reverse(ids[row]), origins[row])
                if len(heap) < self.limit:
                    heapq.heappush(heap, item)
                elif item > heap[0]:
                    heapq.heapreplace(heap, item)

    def table(self, texts: Sequence[EvalText]) -> pa.Table:
        """One `ContaminationNearestRecord` row per eval text and rank, rows with a shingle only."""
        rows = []
        for key, text in enumerate(texts):
            ranked = sorted(self.best.get(key, []), reverse=True)
            ranked = [item for item in ranked if item[0] > 0]
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
