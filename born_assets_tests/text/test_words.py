"""Word shingles: what MinHash near-dedup, contamination and the similarity index sign."""

from hypothesis import given
from hypothesis import strategies as st

from born_assets.text.words import shingle_set, text_tokens, word_shingles

WORDS = st.lists(st.binary(min_size=1, max_size=6).filter(lambda w: b" " not in w), max_size=30)


@given(WORDS, st.integers(min_value=1, max_value=8))
def test_a_shingle_is_each_run_of_size_words_space_joined(words: list[bytes], size: int) -> None:
    expected = [b" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    if 0 < len(words) <= size:
        expected = [b" ".join(words)]  # fewer words than a shingle: one shingle of all of them
    assert word_shingles(words, size) == expected


def test_shingles_never_span_two_texts_of_a_row() -> None:
    tokens = text_tokens("a (b) c")
    assert tokens == [b"a", b"(", b"b", b")", b"c"]
    assert sorted(shingle_set(["a b", "c d"], 2)) == [b"a b", b"c d"]
    assert word_shingles([], 3) == []
