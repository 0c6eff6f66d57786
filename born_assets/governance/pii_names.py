"""Person names: a gazetteer of first and last names with context rules, offline.

The gazetteer is the person-name lists that Faker (a maintained PyPI package) ships per locale:
first names, last names and, for Chinese and Japanese, their romanized forms. Which locales are
read, which capitalized words are never names, the titles and the cue words all come from the
policy (`pii.names`), so tuning precision is a policy change.

A span is a person name when (Title-case words only, never inside an identifier, a path or an
e-mail address):

1. `full_name`: a first name of the gazetteer, an optional middle initial, and a first or last
   name of the gazetteer (`Ada Lovelace`, `Mia J. Li`, `Nicolas Noé`);
2. `title`: an honorific and one or two capitalized words, one of them in the gazetteer
   (`Dr. Hopper`, `Mrs Jane Austen`);
3. `cue`: a greeting, a sign-off or "my name is" before a first name of the gazetteer, with the
   last name if one follows (`Thanks, Adam`, `Hi Mia,`, `my name is Yusuf Rossi`);
4. `field`: the quoted value of a key that holds a person's name (`"author": "Steve Jobs"`,
   `author="Steven Loria"`; keys from the policy): two or three capitalized words or initials.

What it cannot see (measured on a labelled sample, see `born_assets_tests/fixtures/pii_names`):
names outside the gazetteer, names in lower case or as handles (`mia_li_3668`), and single
first names without a cue.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from born_assets.schemas.vocabulary import PiiKind
from born_assets.specs.pii_policy import NamePolicy

Hit = tuple[int, int, PiiKind]

_WORD = r"[A-Z][a-z\u00df-\u00ff]+(?:['\u2019-][A-Z][a-z\u00df-\u00ff]+)?"
_BEFORE = r"(?<![\w.@/\\#$%&*'\"-])"  # not inside an identifier, path, address or quote
_AFTER = r"(?![\w@/(\[{-]|\.\w)"  # not a call, an index, a path or an attribute chain
_NOT_IN_WORD = r"(?<![\w.])"


@dataclass(frozen=True)
class _Guarded:
    """A pattern that starts with a lookbehind, and where its matches can start.

    Python's `re` skips ahead fast only to where a pattern's first literal or character set
    occurs, and a leading lookbehind hides it: every offset of the text is tried. `starts` is
    the pattern without its lookbehind, or the words one of which each match starts with
    (found with `str.find`, in the lower-cased text when `lowered`); `pattern` itself is tried
    only there. On 1,500 rows of sanitized text (23.5 M characters) the four name patterns
    took 2.6 s plainly and 0.6 s so; the `pii` step at 100k rows went from 98.5 to 50.4 s
    (docs/performance.md).
    """

    pattern: re.Pattern[str]
    starts: re.Pattern[str] | tuple[str, ...]
    lowered: bool = False
    """`starts` are words searched in the lower-cased text."""

    def finditer(self, text: str, lowered: str) -> Iterator[re.Match[str]]:
        """The matches `self.pattern.finditer(text)` yields, in order."""
        end = 0
        for start in self._starts(lowered if self.lowered else text):
            if start >= end and (match := self.pattern.match(text, start)) is not None:
                yield match
                end = match.end()

    def _starts(self, searched: str) -> Iterator[int]:
        if isinstance(self.starts, re.Pattern):
            position = 0
            while (found := self.starts.search(searched, position)) is not None:
                yield found.start()
                position = found.start() + 1
            return
        offsets: set[int] = set()
        for word in self.starts:  # one `str.find` per word: twice as fast as an alternation
            at = searched.find(word)
            while at != -1:
                offsets.add(at)
                at = searched.find(word, at + 1)
        yield from sorted(offsets)


def _guarded(
    guard: str, body: str, words: Iterable[str] | None = None, lowered: bool = False
) -> _Guarded:
    """`guard + body`, tried where `words` (else `body`) occur; `lowered`: words in lower case."""
    pattern = re.compile(guard + body)
    if words is None:
        return _Guarded(pattern, re.compile(body))
    return _Guarded(pattern, tuple(words), lowered)


_FULL = _guarded(
    _BEFORE,
    rf"(?P<first>{_WORD})(?: (?P<middle>[A-Z]\.))? (?P<last>(?:Mc|Mac|O')?{_WORD})" + _AFTER,
)
_INITIALS = r"(?:[A-Z]\.){1,3}"
_FIELD_VALUE = rf"(?:{_INITIALS} ?{_WORD}|{_WORD}(?: (?:{_INITIALS}|{_WORD})){{1,2}})"
_NAME_ATTRIBUTES = (
    "first_names", "first_names_male", "first_names_female", "first_names_nonbinary",
    "first_romanized_names", "last_names", "last_romanized_names",
)  # fmt: skip


@dataclass(frozen=True)
class Gazetteer:
    """First and last names (Title case), and the words that are never names."""

    first: frozenset[str]
    last: frozenset[str]


@cache
def _locale_names(locale: str) -> tuple[frozenset[str], frozenset[str]]:
    """(first names, last names) Faker ships for `locale`, Title-cased, Latin script only."""
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    first: set[str] = set()
    last: set[str] = set()
    for attribute in _NAME_ATTRIBUTES:
        target = last if attribute.startswith("last") else first
        for name in getattr(provider, attribute, ()):
            for part in str(name).split():
                titled = part.title() if part.isupper() else part
                if re.fullmatch(_WORD, titled):
                    target.add(titled)
    return frozenset(first), frozenset(last)


def gazetteer(policy: NamePolicy) -> Gazetteer:
    """The gazetteer of the policy's locales, without its `not_names`."""
    first: set[str] = set()
    last: set[str] = set()
    for locale in policy.locales:
        names = _locale_names(locale)
        first |= names[0]
        last |= names[1]
    stop = {word.title() for word in policy.not_names}
    return Gazetteer(frozenset(first - stop), frozenset(last - stop))


def _patterns(policy: NamePolicy) -> tuple[_Guarded, _Guarded, _Guarded]:
    titles = "|".join(re.escape(t.rstrip(".")) for t in sorted(policy.titles, key=len)[::-1])
    cue_words = sorted(policy.cues, key=len)[::-1]
    cues = "|".join(re.escape(c) for c in cue_words)
    title = _guarded(_NOT_IN_WORD, rf"(?:{titles})\.? (?P<name>{_WORD}(?: {_WORD})?)" + _AFTER)
    cue = _guarded(
        _NOT_IN_WORD,
        rf"(?i:{cues})[,:]?[ \t]+(?P<name>{_WORD}(?: {_WORD})?)" + _AFTER,
        words={c.lower() for c in cue_words},
        lowered=True,
    )
    key_words = sorted(policy.name_keys, key=len)[::-1]
    keys = "|".join(re.escape(k) for k in key_words)
    field = _guarded(
        _NOT_IN_WORD,
        rf"(?:{keys})\\?[\"']?\s*[:=]\s*\\?[\"'](?P<name>{_FIELD_VALUE})\\?[\"']",
        words=key_words,
    )
    return title, cue, field


class NameFinder:
    """Finds person names in a text (see the module docstring); built once per policy."""

    def __init__(self, policy: NamePolicy) -> None:
        """Load the gazetteer and compile the context patterns of `policy`."""
        self.policy = policy
        self.names = gazetteer(policy)
        # The union is tens of thousands of names: built once here, not once per text scanned.
        self._either = self.names.first | self.names.last
        self._title, self._cue, self._field = _patterns(policy)

    def __call__(self, text: str, lowered: str) -> Iterator[Hit]:
        """Yield `(start, end, PERSON_NAME)` for every name found, spans may overlap.

        `lowered` is `text` lower-cased with its offsets kept (the cues match in any case).
        """
        names, either = self.names, self._either
        for match in _FULL.finditer(text, lowered):
            if match["first"] in names.first and match["last"] in either:
                yield match.start(), match.end(), PiiKind.PERSON_NAME
        for match in self._field.finditer(text, lowered):
            yield match.start("name"), match.end("name"), PiiKind.PERSON_NAME
        for pattern, known in ((self._title, either), (self._cue, names.first)):
            for match in pattern.finditer(text, lowered):
                words = match["name"].split(" ")
                if words[0] not in known and not (pattern is self._title and words[-1] in known):
                    continue
                end = match.end() if len(words) == 1 or words[1] in names.last else (
                    match.start("name") + len(words[0])
                )  # fmt: skip
                yield match.start("name"), end, PiiKind.PERSON_NAME
