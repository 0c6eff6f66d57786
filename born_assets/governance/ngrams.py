r"""Word n-gram overlap between training texts and indexed eval texts.

Texts are normalized and split into words by `born_assets.text.words` (`normalize_text`,
`text_words`: NFKC, casefold, whitespace collapsed; words are `\w+` runs, punctuation dropped).
An n-gram is a run of n consecutive words inside one text: n-grams never span the boundary
between a row's prompt and response.

Overlap (`NgramIndex.overlaps`): for an indexed eval text E and a training row R, the shared
count is the number of distinct n-grams of E that occur anywhere in R (prompt or response), and
the overlap fraction is shared / (distinct n-grams of E): how much of the eval text the row
contains. A row that quotes a whole eval prompt inside a long answer scores 1.0; a row that
shares one stock phrase with it scores little. A text with fewer than n words has no n-grams:
an eval text that short is covered only by the exact check, and so is a training text.

Scale: the eval side is indexed once: a vocabulary of its words (id >= 1), its distinct n-grams
as word-id tuples, each hashed to a 64-bit integer (a polynomial over the word ids, modulo
2**64), sorted. Training rows stream through in batches: their words map to vocabulary ids (a
word the eval sets never use maps to 0, and no n-gram holding a 0 can match), the n-gram hashes
of the whole batch are computed with a handful of vectorized numpy operations and looked up with
a binary search. Every hash hit is then verified against the eval n-gram's word ids, so a hash
collision can never produce a match.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from born_assets.text.words import text_words

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

IntArray = npt.NDArray[np.int64]
HashArray = npt.NDArray[np.uint64]


def _rolling_hashes(ids: HashArray, n: int) -> HashArray:
    """Hash of every window of n consecutive ids: sum(id[i+j] * M**(n-1-j)) mod 2**64."""
    count = len(ids) - n + 1
    hashes = ids[:count].copy()
    for offset in range(1, n):
        hashes *= _MULTIPLIER
        hashes += ids[offset : offset + count]
    return hashes


@dataclass(frozen=True)
class NgramOverlaps:
    """The result of looking up one batch of documents (training rows).

    `ngram_counts[d]` is the number of n-gram positions in document d (0: too short to check).
    `docs`, `keys` and `shared` are parallel arrays, sorted by document then key: document d
    holds `shared` distinct n-grams of the indexed text `key` (only pairs sharing at least one).
    """

    ngram_counts: IntArray
    docs: IntArray
    keys: IntArray
    shared: IntArray


class NgramIndex:
    """The distinct word n-grams of a list of normalized eval texts (text i has key i)."""

    def __init__(self, texts: Sequence[str], n: int) -> None:
        if n < 1:
            raise ValueError("n-gram size must be >= 1")
        self.n = n
        self._vocabulary: dict[bytes, int] = {}
        grams: dict[tuple[int, ...], int] = {}
        postings: list[list[int]] = []
        counts = []
        for key, text in enumerate(texts):
            vocabulary = self._vocabulary
            ids = [vocabulary.setdefault(w, len(vocabulary) + 1) for w in text_words(text)]
            distinct = {tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)}
            counts.append(len(distinct))
            for gram in sorted(distinct):
                number = grams.setdefault(gram, len(grams))
                if number == len(postings):
                    postings.append([])
                postings[number].append(key)
        self.text_ngram_counts: IntArray = np.array(counts, dtype=np.int64)
        tuples = np.array(list(grams), dtype=np.uint64).reshape(len(grams), n)
        hashes = self._hash_rows(tuples)
        order = np.argsort(hashes, kind="stable")
        self._hashes: HashArray = hashes[order]
        if np.any(self._hashes[1:] == self._hashes[:-1]):
            raise ValueError("two distinct eval n-grams share a 64-bit hash; change _MULTIPLIER")
        self._grams = tuples[order]
        sizes = np.array([len(postings[i]) for i in order], dtype=np.int64)
        self._posting_starts: IntArray = np.concatenate(([0], np.cumsum(sizes)))
        self._posting_keys: IntArray = np.array(
            [key for i in order for key in postings[i]], dtype=np.int64
        )

    def _hash_rows(self, tuples: HashArray) -> HashArray:
        hashes = np.zeros(len(tuples), dtype=np.uint64)
        for column in range(self.n):
            hashes *= _MULTIPLIER
            hashes += tuples[:, column]
        return hashes

    @property
    def ngram_count(self) -> int:
        """Distinct n-grams in the index."""
        return len(self._hashes)

    def overlaps(self, documents: Sequence[Sequence[str]]) -> NgramOverlaps:
        """Shared distinct n-grams between each document and each indexed text.

        Args:
            documents: One entry per training row: its normalized texts (prompt, response).
                N-grams never span two texts.

        Returns:
            The n-gram count of each document and every (document, key, shared) with shared > 0.
        """
        n = self.n
        lookup = self._vocabulary.get
        ids = array("Q")
        starts = np.zeros(len(documents), dtype=np.int64)
        counts = np.zeros(len(documents), dtype=np.int64)
        for number, texts in enumerate(documents):
            starts[number] = len(ids)
            for text in texts:
                words = text_words(text)
                counts[number] += max(0, len(words) - n + 1)
                ids.extend(map(lookup, words, itertools.repeat(0)))
                ids.append(0)  # separator: no n-gram spans two texts
        positions, grams = self._hits(np.frombuffer(ids, dtype=np.uint64))
        docs = np.searchsorted(starts, positions, side="right") - 1
        return self._count_shared(counts, docs, grams)

    def _hits(self, ids: HashArray) -> tuple[IntArray, IntArray]:
        """Window positions whose n-gram is in the index, and the index row of each."""
        n = self.n
        empty = np.zeros(0, dtype=np.int64)
        if len(ids) < n or self.ngram_count == 0:
            return empty, empty
        zeros = np.concatenate(([0], np.cumsum(ids == 0)))
        candidate = np.flatnonzero(zeros[n:] == zeros[:-n])
        hashes = _rolling_hashes(ids, n)[candidate]
        found = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
        same_hash = self._hashes[found] == hashes
        candidate, found = candidate[same_hash], found[same_hash]
        verified = np.ones(len(candidate), dtype=bool)
        for offset in range(n):  # word by word: memory stays linear in the hits
            verified &= ids[candidate + offset] == self._grams[found, offset]
        return candidate[verified], found[verified].astype(np.int64)

    def _count_shared(self, counts: IntArray, docs: IntArray, grams: IntArray) -> NgramOverlaps:
        """Distinct (document, n-gram) pairs, expanded to keys and counted per (document, key)."""
        if len(grams) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return NgramOverlaps(ngram_counts=counts, docs=empty, keys=empty, shared=empty)
        pairs = np.unique(docs * self.ngram_count + grams)
        docs, grams = pairs // self.ngram_count, pairs % self.ngram_count
        sizes = self._posting_starts[grams + 1] - self._posting_starts[grams]
        offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        keys = self._posting_keys[np.repeat(self._posting_starts[grams], sizes) + offsets]
        text_count = max(len(self.text_ngram_counts), 1)
        combined, shared = np.unique(np.repeat(docs, sizes) * text_count + keys, return_counts=True)
        return NgramOverlaps(
            ngram_counts=counts,
            docs=combined // text_count,
            keys=combined % text_count,
            shared=shared.astype(np.int64),
        )
