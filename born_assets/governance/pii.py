"""Find personal data and secrets in a row's text, tell real values from placeholders, redact.

`scan` finds e-mail addresses, phone numbers, IP addresses, home-directory user names, API keys,
private keys, tokens and assigned passwords (the detectors are in `pii_patterns`) and marks each
finding that is a placeholder rather than real: reserved or conventional example domains,
documentation, private and well-known service IP addresses, fictional 555 phone numbers, and
secret values that are templates, masks, ids, sequences, dictionary words or too short.

`redact` replaces each real finding whose policy action is ``redact`` with a typed placeholder
(``<EMAIL>``, ``<KEY>``...); ``flag`` keeps the text and counts it; ``ignore`` does not look.
`scan_row` does both for a prompt and a response and gives the row's `contains_real_pii`,
`pii_scan_status` and the ``redact_pii`` step for `post_processing`. Counts never include the
matched text. Same text and policy, same result.
"""

import bisect
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from born_assets.governance.pii_patterns import SECRET_KINDS
from born_assets.governance.pii_scanner import PiiScanner
from born_assets.schemas.vocabulary import PiiKind, PiiScanStatus

__all__ = [
    "PLACEHOLDERS",
    "Finding",
    "RedactionStats",
    "RowPiiResult",
    "redact",
    "scan",
    "scan_row",
]

PLACEHOLDERS: Mapping[PiiKind, str] = {
    PiiKind.PRIVATE_KEY: "<PRIVATE_KEY>",
    PiiKind.API_KEY: "<KEY>",
    PiiKind.TOKEN: "<TOKEN>",
    PiiKind.PASSWORD: "<PASSWORD>",
    PiiKind.EMAIL: "<EMAIL>",
    PiiKind.PHONE: "<PHONE>",
    PiiKind.IP_ADDRESS: "<IP_ADDRESS>",
    PiiKind.USERNAME: "<USER>",
    PiiKind.PERSON_NAME: "<PERSON>",
}
TRANSFORM_NAME = "redact_pii"


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of PII or a secret in a text (the matched text itself is not kept).

    Attributes:
        kind: What was found.
        start: Start offset in the scanned text.
        end: End offset (exclusive).
        is_secret: True for keys, private keys, tokens and passwords.
        detector: The detector that found it (``propagated``: another occurrence in the same row
            of a real secret found elsewhere).
        is_placeholder: The value is a placeholder, not real.
    """

    kind: PiiKind
    start: int
    end: int
    is_secret: bool
    detector: str
    is_placeholder: bool = False

    @property
    def span(self) -> tuple[int, int]:
        """``(start, end)``, the order findings are sorted in."""
        return self.start, self.end


_DEFAULT = PiiScanner()
_SPAN = attrgetter("span")
_RANK = {kind: rank for rank, kind in enumerate(PiiKind)}


def scan(text: str, scanner: PiiScanner = _DEFAULT) -> list[Finding]:
    """Find PII and secrets in `text`.

    Of overlapping candidates, the higher-priority kind wins (`PiiKind` order), then the longer
    span, then the earlier one, then the detector declared first.

    Args:
        text: Any text (a prompt, a closure-format response).
        scanner: Which kinds to look for (not ``ignore``) and what counts as a placeholder.

    Returns:
        Non-overlapping findings ordered by start offset.
    """
    lowered = _lower_same_length(text)
    candidates: list[tuple[int, int, int, int, str, PiiKind, int]] = []
    for order, detector in enumerate(scanner.detectors):
        if detector.triggers and not any(t in lowered for t in detector.triggers):
            continue
        for start, end, kind in detector.find(text, lowered):
            if end > start and kind in scanner.wanted_kinds:
                candidates.append(
                    (_RANK[kind], start - end, start, order, detector.name, kind, end)
                )
    kept = _Spans()
    findings: list[Finding] = []
    for _, _, start, _, name, kind, end in sorted(candidates):
        if kept.add(start, end):
            placeholder = scanner.is_placeholder(kind, text[start:end])
            findings.append(Finding(kind, start, end, kind in SECRET_KINDS, name, placeholder))
    return sorted(findings, key=_SPAN)


class _Spans:
    """Non-overlapping spans, sorted, with an O(log n) overlap test."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in sorted(spans):
            self.add(start, end)

    def add(self, start: int, end: int) -> bool:
        """Add `start:end` unless it overlaps a span already added; True if added."""
        index = bisect.bisect_right(self._starts, start)
        if index > 0 and self._ends[index - 1] > start:
            return False
        if index < len(self._starts) and self._starts[index] < end:
            return False
        self._starts.insert(index, start)
        self._ends.insert(index, end)
        return True


def _lower_same_length(text: str) -> str:
    """`text` lower-cased with offsets kept (characters such as ``İ`` stay as they are)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(low := c.lower()) != 1 else low for c in text)


@dataclass(frozen=True, slots=True)
class RedactionStats:
    """Counts per kind of what `redact` did, in `PiiKind` order; never the matched text.

    Attributes:
        redacted: Real findings replaced by their placeholder.
        flagged: Real findings kept in the text (action ``flag``).
        placeholders: Findings left alone because they are placeholders.
    """

    redacted: Mapping[PiiKind, int] = field(default_factory=dict)
    flagged: Mapping[PiiKind, int] = field(default_factory=dict)
    placeholders: Mapping[PiiKind, int] = field(default_factory=dict)

    def __add__(self, other: "RedactionStats") -> "RedactionStats":
        return RedactionStats(
            _ordered(Counter(self.redacted) + Counter(other.redacted)),
            _ordered(Counter(self.flagged) + Counter(other.flagged)),
            _ordered(Counter(self.placeholders) + Counter(other.placeholders)),
        )

    def transform(self) -> dict[str, int | str] | None:
        """The `post_processing` step, e.g. ``{"name": "redact_pii", "email": 2}``.

        Returns:
            The step, or None when nothing was redacted.
        """
        if not self.redacted:
            return None
        return {"name": TRANSFORM_NAME, **{kind.value: n for kind, n in self.redacted.items()}}


_NO_STATS = RedactionStats()


def _ordered(counts: Mapping[PiiKind, int]) -> dict[PiiKind, int]:
    return {kind: counts[kind] for kind in _RANK if counts.get(kind)}


def redact(
    text: str, findings: Iterable[Finding], scanner: PiiScanner = _DEFAULT
) -> tuple[str, RedactionStats]:
    """Replace each real finding whose action is ``redact`` with its typed placeholder.

    Args:
        text: The text the findings were found in.
        findings: Non-overlapping findings of `text`, as `scan` returns them.
        scanner: The action per kind.

    Returns:
        The redacted text and the counts per kind.

    Raises:
        ValueError: Two findings overlap or a finding lies outside the text.
    """
    ordered = sorted(findings, key=_SPAN)
    if not ordered:
        return text, _NO_STATS
    parts: list[str] = []
    position = last_end = 0
    counts = {action: Counter[PiiKind]() for action in ("redact", "flag", "placeholder")}
    for finding in ordered:
        if finding.start < last_end or finding.end > len(text):
            raise ValueError(f"finding {finding.start}:{finding.end} overlaps or leaves the text")
        last_end = finding.end
        action = "placeholder" if finding.is_placeholder else scanner.actions[finding.kind].value
        if action in counts:
            counts[action][finding.kind] += 1
        if action == "redact":
            parts += (text[position : finding.start], PLACEHOLDERS[finding.kind])
            position = finding.end
    parts.append(text[position:])
    stats = RedactionStats(*(_ordered(counts[key]) for key in ("redact", "flag", "placeholder")))
    return "".join(parts), stats


@dataclass(frozen=True, slots=True)
class RowPiiResult:
    """The PII verdict of one row.

    Attributes:
        prompt: The prompt after redaction.
        response: The response after redaction.
        contains_real_pii: A real (non-placeholder) finding of a kind not ignored was found.
        pii_scan_status: ``clean`` (nothing real), ``redacted`` (every real finding replaced) or
            ``flagged`` (a real finding is still in the text).
        transform: The ``redact_pii`` step for `post_processing`; None if nothing was redacted.
        stats: Counts per kind over prompt, response and the other texts.
        others: The row's other texts (its messages' contents and tool arguments) after
            redaction, in the order given.
    """

    prompt: str
    response: str
    contains_real_pii: bool
    pii_scan_status: PiiScanStatus
    transform: dict[str, int | str] | None
    stats: RedactionStats
    others: tuple[str, ...] = ()


def scan_row(
    prompt: str, response: str, scanner: PiiScanner = _DEFAULT, others: Sequence[str] = ()
) -> RowPiiResult:
    """Scan and redact a row's prompt, response and other texts.

    A real secret found in one place (``password="..."``) is also redacted wherever else the same
    value occurs in the row, e.g. where a trace repeats it in prose.

    Args:
        prompt: The prompt text.
        response: The sanitized response (closure format, tool arguments and results included).
        scanner: Actions per kind and placeholder rules.
        others: More texts of the row (its messages), scanned and redacted alike.

    Returns:
        The redacted texts, the row's verdict and the counts.
    """
    texts = [prompt, response, *others]
    scanned: dict[str, list[Finding]] = {}  # a message often repeats the prompt: scan it once
    findings = [
        scanned[text] if text in scanned else scanned.setdefault(text, scan(text, scanner))
        for text in texts
    ]
    if not any(findings):
        return RowPiiResult(
            prompt, response, False, PiiScanStatus.CLEAN, None, _NO_STATS, tuple(others)
        )
    secrets = {
        text[f.start : f.end]: f.kind
        for text, found in zip(texts, findings, strict=True)
        for f in found
        if f.is_secret and not f.is_placeholder
    }
    stats = _NO_STATS
    redacted: list[str] = []
    for text, found in zip(texts, findings, strict=True):
        new_text, text_stats = redact(text, _propagate(text, found, secrets), scanner)
        redacted.append(new_text)
        stats = stats + text_stats
    status = PiiScanStatus.CLEAN
    if stats.flagged:
        status = PiiScanStatus.FLAGGED
    elif stats.redacted:
        status = PiiScanStatus.REDACTED
    contains_real = bool(stats.flagged or stats.redacted)
    return RowPiiResult(
        redacted[0],
        redacted[1],
        contains_real,
        status,
        stats.transform(),
        stats,
        tuple(redacted[2:]),
    )


def _propagate(text: str, findings: list[Finding], secrets: Mapping[str, PiiKind]) -> list[Finding]:
    """`findings` plus every other occurrence in `text` of a real secret value (longest first)."""
    kept, spans = list(findings), _Spans(f.span for f in findings)
    for value in sorted(secrets, key=lambda v: (-len(v), v)):
        start = text.find(value)
        while start != -1:
            end = start + len(value)
            if spans.add(start, end):
                kept.append(Finding(secrets[value], start, end, True, "propagated"))
            start = text.find(value, end)
    return sorted(kept, key=_SPAN)
