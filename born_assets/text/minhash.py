"""MinHash signatures of rows' texts, and the similarity they estimate (Dagster-free, no policy).

A row's signature is the R-MinHash (`rensa`, the Rust library measured against datasketch in
`bench/minhash_libraries.py`: the same estimates, about 12x faster) of its distinct word
shingles (`text.words.shingle_set`), `num_perm` unsigned 32-bit values. Two rows' estimated
Jaccard similarity is the share of positions where their signatures agree. A row without a
single shingle (no word at all) has no signature: it is flagged `empty` and is similar to
nothing. Near-dedup, the similarity index and the contamination check all sign texts here, so
one policy gives one meaning of "similar".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rensa import RMinHash

from born_assets.text.words import shingle_set

SignatureMatrix = npt.NDArray[np.uint32]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MinHashParams:
    """How texts are signed: shingle size in words, signature length, hash seed."""

    shingle_words: int
    num_perm: int
    seed: int


@dataclass(frozen=True)
class Signatures:
    """One signature per row (`matrix`, rows x num_perm) and which rows had no shingle."""

    matrix: SignatureMatrix
    empty: BoolArray

    def __len__(self) -> int:
        return len(self.empty)

    @classmethod
    def none(cls, num_perm: int) -> Signatures:
        """No rows."""
        return cls(np.zeros((0, num_perm), dtype=np.uint32), np.zeros(0, dtype=bool))


def sign(rows: Sequence[Sequence[str]], params: MinHashParams) -> Signatures:
    """The signatures of `rows`, each row given as its texts (e.g. prompt and response)."""
    shingles = [shingle_set(texts, params.shingle_words) for texts in rows]
    empty = np.array([not s for s in shingles], dtype=bool)
    if not shingles:
        return Signatures.none(params.num_perm)
    digests = RMinHash.digest_matrix_from_token_sets(
        shingles, num_perm=params.num_perm, seed=params.seed
    )
    matrix = np.array(digests.to_rows(), dtype=np.uint32).reshape(len(shingles), params.num_perm)
    return Signatures(matrix, empty)


def pairwise_similarities(left: Signatures, right: Signatures) -> FloatArray:
    """Estimated Jaccard similarity of every row of `left` to every row of `right` (l x r).

    Empty rows are similar to nothing (0). Memory stays at one l x r counter: signature
    positions are compared one at a time.
    """
    agree = np.zeros((len(left), len(right)), dtype=np.uint16)
    for position in range(left.matrix.shape[1]):
        agree += left.matrix[:, position, None] == right.matrix[None, :, position]
    scores = agree / np.float64(left.matrix.shape[1])
    scores[left.empty, :] = 0.0
    scores[:, right.empty] = 0.0
    return scores
