"""Person names are personal data a release must account for, measured and not guessed.

The name detector is a gazetteer with context rules (`governance/pii_names.py`): what it finds is
counted per kind in every release card, and a rule change must not silently lose precision or
recall. The labelled sample (`fixtures/pii_names/labelled.json`, 122 windows of real public data
with every person's name marked by hand) pins both: measured 2026-12 with the default policy,
67 names found, 0 false positives, 14 missed (precision 1.00, recall 0.83). Of the misses, 12
are surnames or first names outside the gazetteer with no cue (`Leonardo DiCaprio`, `Magellan`,
`André`), 2 are partial spans (`Burch` cut from a full name, `John Doe` is a placeholder the
gazetteer does not hold). On all 8,277 prose strings of the real data the detector makes 354
findings of 97 distinct strings; read one by one, every one is (part of) a person's name.
"""

import json

import pytest
from pydantic import ValidationError

from born_assets.governance import pii_names
from born_assets.governance.pii import _lower_same_length, redact, scan, scan_row
from born_assets.governance.pii_names import NameFinder
from born_assets.governance.pii_scanner import PiiScanner
from born_assets.schemas.vocabulary import PiiKind, PiiScanStatus
from born_assets.specs.pii_policy import NamePolicy, PiiAction, PiiPolicy
from born_assets_tests.conftest import FIXTURES

SAMPLE = json.loads((FIXTURES / "pii_names" / "labelled.json").read_text(encoding="utf-8"))
NAMES_ONLY = PiiScanner(
    PiiPolicy(
        actions={
            kind: PiiAction.REDACT if kind is PiiKind.PERSON_NAME else PiiAction.IGNORE
            for kind in PiiKind
        }
    )
)


def names(text: str, scanner: PiiScanner = NAMES_ONLY) -> list[tuple[str, bool]]:
    return [
        (text[f.start : f.end], f.is_placeholder)
        for f in scan(text, scanner)
        if f.kind is PiiKind.PERSON_NAME
    ]


def test_the_labelled_sample_measures_precision_and_recall() -> None:
    counts = {"tp": 0, "fp": 0, "fn": 0}
    for window in SAMPLE:
        found = {name for name, _ in names(window["text"])}
        labelled = set(window["names"])
        counts["tp"] += len(found & labelled)
        counts["fp"] += len(found - labelled)
        counts["fn"] += len(labelled - found)
    assert len(SAMPLE) == 122 and sum(len(w["names"]) for w in SAMPLE) == 81
    assert counts == {"tp": 67, "fp": 0, "fn": 14}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Passenger: Mia Li (DOB 1990-01-01)", [("Mia Li", False)]),
        ("last modified by Nick Pope)", [("Nick Pope", False)]),
        ("Replying to Carlos E. Castañeda: ok", [("Carlos E. Castañeda", False)]),
        ("Thanks, Dylan", [("Dylan", False)]),
        ("Hi Tom, I am also getting this error", [("Tom", False)]),
        ("samples were given to Dr. Johnson:", [("Johnson", False)]),
        ('{"author": "Steve Jobs", "id": 1}', [("Steve Jobs", False)]),
        ("author='C.S. Lewis'", [("C.S. Lewis", False)]),
        ("to John Smith and Jane Smith.", [("John Smith", True), ("Jane Smith", True)]),
        ("Hi Alice, meet Bob.", [("Alice", True)]),
        # not names: words, products, identifiers, code, places
        ("Will Return the value; Mark Down the price", []),
        ("Hi Claude, summarize this", []),
        ("class JohnSmith: Ivan_Smith = obj.Ivan Smith()", []),
        ("See the Python Software Foundation in Santa Clara", []),
        ("The French Revolution began in Paris", []),
    ],
)
def test_names_are_found_by_gazetteer_and_context(
    text: str, expected: list[tuple[str, bool]]
) -> None:
    assert names(text) == expected


def test_a_name_is_redacted_or_flagged_per_policy() -> None:
    text = "Passenger: Kevin Smith, booked by Sophia Silva."
    redacted, stats = redact(text, scan(text, NAMES_ONLY), NAMES_ONLY)
    assert redacted == "Passenger: <PERSON>, booked by <PERSON>."
    assert stats.redacted == {PiiKind.PERSON_NAME: 2}
    flagged = scan_row(text, "ok", PiiScanner())  # the default policy flags names
    assert flagged.pii_scan_status is PiiScanStatus.FLAGGED and flagged.prompt == text
    assert flagged.stats.flagged == {PiiKind.PERSON_NAME: 2}


def test_a_locale_without_a_name_list_is_a_policy_error() -> None:
    with pytest.raises(ValidationError, match="no person-name list for locale 'xx_YY'"):
        NamePolicy(locales=("en_US", "xx_YY"))


GUARD_EDGES = [
    "XDr. Mr. Smith",  # the first title is inside a word; the second one counts
    "this Hi Adam; thIS; HI Mia, HELLO Noah",  # "hi" inside words, cues in any case
    "Thanks, Thanks, Dylan",  # a cue failing where the next one starts
    'xauthor="Ann Lee" author: "Ann Lee" .name="Bo Li"',
    "_Ada Lovelace .Ada Lovelace Ada Lovelace\nAda Lovelace",
    "DrDr. Ada Dr.Ada Dr. Ada",
    "",
]


@pytest.mark.parametrize("which", ["full", "title", "cue", "field"])
def test_the_fast_search_finds_what_the_plain_pattern_finds(which: str) -> None:
    """The name patterns start with a lookbehind, so they run only where their body matches.

    That must change only the speed: the matches are those of the whole pattern run plainly,
    on the labelled windows and on texts where a start inside a word hides a real one.
    """
    finder = NameFinder(NamePolicy())
    guarded = {"full": pii_names._FULL, "title": finder._title, "cue": finder._cue}.get(
        which, finder._field
    )
    texts = [window["text"] for window in SAMPLE] + GUARD_EDGES
    found = 0
    for text in texts:
        spans = [m.span() for m in guarded.finditer(text, _lower_same_length(text))]
        assert spans == [m.span() for m in guarded.pattern.finditer(text)], text
        found += len(spans)
    assert found > 0  # the comparison saw matches, not only their absence
