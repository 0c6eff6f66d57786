r"""Normalized text, its words and its word shingles: what lexical comparisons of rows see.

Normalization (`normalize_text`): Unicode NFKC (compatibility forms fold: full-width letters,
ligatures, non-breaking spaces), then `str.casefold` (lowercase, Unicode-aware), then every run
of whitespace becomes one space and the ends are stripped. Line endings, indentation and case
therefore never matter; all other characters (punctuation included) do.

Words (`text_words`): the maximal runs of word characters of the normalized text, exactly
Python's `\w+` (Unicode letters and digits, and `_`); punctuation and symbols separate words
and are dropped, so `a+b` and `a + b` give the same words (datatrove's `simplify_text` drops
punctuation the same way before its MinHash).

Tokens (`text_tokens`): the words and, between them, every other non-space character on its own
(`(`, `<`, `=`...). MinHash shingles are made of tokens, not words: in code and in task texts the
symbols carry meaning (HumanEval/56 and /61 differ only in `<>` against `()`), while re-indenting
and re-wrapping still change nothing.

Shingles (`word_shingles`): every run of `size` consecutive tokens, as their UTF-8 bytes joined by
one space; a text with fewer tokens than `size` is one shingle of all of them, and an empty text
has none. Shingles never span two texts: `shingle_set` shingles each text of a row on its own and
takes the union.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from itertools import accumulate

_WORD_BYTES = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
# ASCII non-word bytes become spaces; bytes >= 0x80 (parts of non-ASCII word characters) stay.
_NON_WORD_TO_SPACE = bytes(c if c in _WORD_BYTES or c >= 0x80 else 0x20 for c in range(256))
_ASCII = frozenset(chr(code) for code in range(128))
_TOKENS = re.compile(r"\w+|[^\w\s]")
_ASCII_TOKENS = re.compile(rb"[0-9A-Za-z_]+|[^0-9A-Za-z_\s]")


def normalize_text(text: str) -> str:
    """NFKC, casefold, whitespace runs collapsed to one space, ends stripped."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def text_words(normalized: str) -> list[bytes]:
    r"""The `\w+` runs of a (normalized) text, as UTF-8 bytes, in order.

    ASCII text takes a fast byte path; in other text each distinct non-ASCII character that is
    not alphanumeric (Python's definition of `\w`) is first replaced by a space.
    """
    if not normalized.isascii():
        for char in set(normalized) - _ASCII:
            if not char.isalnum():
                normalized = normalized.replace(char, " ")
    return normalized.encode("utf-8").translate(_NON_WORD_TO_SPACE).split()


def text_tokens(normalized: str) -> list[bytes]:
    r"""The words (`\w+`) and the single non-space symbols of a (normalized) text, in order."""
    if normalized.isascii():
        return _ASCII_TOKENS.findall(normalized.encode("ascii"))
    return [token.encode("utf-8") for token in _TOKENS.findall(normalized)]


def normalize_words(text: str) -> list[bytes]:
    """The words of `text` after `normalize_text`."""
    return text_words(normalize_text(text))


def word_shingles(words: list[bytes], size: int) -> list[bytes]:
    """Every run of `size` consecutive words, space-joined; all the words when fewer.

    Each shingle is cut from the words joined once (a slice, not a join of a list of `size`
    words): 1.2-1.4x faster on a batch of sanitized rows.
    """
    if len(words) <= size:
        return [b" ".join(words)] if words else []
    joined = b" ".join(words)
    starts = [0, *accumulate(len(word) + 1 for word in words)]  # where each word starts
    return [joined[start : end - 1] for start, end in zip(starts, starts[size:], strict=False)]


def shingle_set(texts: Iterable[str], size: int) -> list[bytes]:
    """The distinct token shingles of several texts of one row, each text shingled on its own."""
    seen: set[bytes] = set()
    for text in texts:
        seen.update(word_shingles(text_tokens(normalize_text(text)), size))
    return list(seen)
