"""The closure format (`## Plan`, `## Code` or `## Patch`, `## Checks`, `## Result`): render, read.

`render_closure` writes section bodies as closure text (a section with nothing holds exactly
`ABSENT_MARKER`); `scan_closure` and `closure_sections` read a text back: where its sections, code
fences and prose are. What goes in each section is decided by `born_assets.sanitize.closure`;
`born_assets.curation.gates` judges what a scan finds against the policy.

Fences follow CommonMark: up to 3 spaces, then 3+ backticks or tildes; closed by a run of the
same character at least as long with nothing after it. Headers inside a closed fence are code;
a fence left open is ended by the next closure header (see `scan_closure`). The scan uses
`str.find` over the text (no per-line Python loop, no per-row regex compile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from born_assets.text.python_code import parse

ABSENT_MARKER = "_Not present in the source._"
SECTION_PLAN = "## Plan"
SECTION_CODE = "## Code"
SECTION_PATCH = "## Patch"
SECTION_CHECKS = "## Checks"
SECTION_RESULT = "## Result"


class Section(StrEnum):
    """The closure sections (`code` stands for `## Code` or `## Patch`)."""

    PLAN = "plan"
    CODE = "code"
    CHECKS = "checks"
    RESULT = "result"


_HEADERS = {
    SECTION_PLAN: Section.PLAN,
    SECTION_CODE: Section.CODE,
    SECTION_PATCH: Section.CODE,
    SECTION_CHECKS: Section.CHECKS,
    SECTION_RESULT: Section.RESULT,
}
_CLOSURE_ORDER = [Section.PLAN, Section.CODE, Section.CHECKS, Section.RESULT]


@dataclass(frozen=True, slots=True)
class RenderedClosure:
    """A closure-format text and which sections came from the source or are absent."""

    text: str
    derived: tuple[str, ...]
    """Section names with content: `plan`, `code` or `patch`, `checks`, `result`."""
    absent: tuple[str, ...]
    """Section names holding only `ABSENT_MARKER`."""


def render_closure(
    plan: list[str], code: list[str], checks: list[str], result: list[str], is_patch: bool
) -> RenderedClosure:
    """The closure text of four sections' bodies, in order; bodies are joined by a blank line.

    The code section is `## Patch` (named `patch`) when `is_patch`, else `## Code`.
    """
    sections = (
        ("plan", SECTION_PLAN, plan),
        ("patch" if is_patch else "code", SECTION_PATCH if is_patch else SECTION_CODE, code),
        ("checks", SECTION_CHECKS, checks),
        ("result", SECTION_RESULT, result),
    )
    text = "\n\n".join(
        f"{header}\n" + ("\n\n".join(bodies) if bodies else ABSENT_MARKER)
        for _, header, bodies in sections
    )
    derived = tuple(name for name, _, bodies in sections if bodies)
    absent = tuple(name for name, _, bodies in sections if not bodies)
    return RenderedClosure(text + "\n", derived, absent)


@dataclass(slots=True)
class CodeBlock:
    """A closed fenced block: language tag (lowercase, "" if none), section header, body span."""

    language: str
    header: str | None
    start: int
    end: int


@dataclass(slots=True)
class ClosureScan:
    """Where the closure headers and code fences of one response are."""

    headers: list[tuple[str, int, int]] = field(default_factory=list)
    """(header line, line start, body start) of each header outside code."""
    blocks: list[CodeBlock] = field(default_factory=list)
    code_spans: list[tuple[int, int]] = field(default_factory=list)
    """Fence to fence spans (open ones included): everything that is not prose."""
    fence_count: int = 0
    swallowed_headers: int = 0
    """Header lines read as code because a fence was open."""
    has_unbalanced_fence: bool = False
    ends_in_open_fence: bool = False


def _line_events(text: str) -> list[tuple[int, int, str]]:
    """(start, end, stripped text) of the lines that may be a fence or a closure header."""
    found: dict[int, tuple[int, str]] = {}
    size = len(text)
    for token in ("```", "~~~"):
        pos = text.find(token)
        while pos != -1:
            start = pos
            while start > 0 and pos - start < 3 and text[start - 1] == " ":
                start -= 1
            if start == 0 or text[start - 1] == "\n":
                end = text.find("\n", pos)
                end = size if end == -1 else end
                found[start] = (end, text[start:end].strip())
                pos = text.find(token, end)
            else:
                pos = text.find(token, pos + 3)
    hit = text.find("\n## ")
    start = 0 if text.startswith("## ") else (hit + 1 if hit != -1 else -1)
    while start != -1:
        end = text.find("\n", start)
        end = size if end == -1 else end
        line = text[start:end].rstrip()
        if line in _HEADERS:
            found[start] = (end, line)
        hit = text.find("\n## ", end)
        start = hit + 1 if hit != -1 else -1
    return [(start, end, line) for start, (end, line) in sorted(found.items())]


def _walk(text: str, events: list[tuple[int, int, str]], recover: bool) -> ClosureScan | None:
    """Pair fences and place headers; None if a fence never closes and `recover` is off."""
    scan = ClosureScan()
    fence: tuple[str, int, str, int, int, str | None] | None = None
    header: str | None = None
    for start, end, line in events:
        if line.startswith("## "):
            if fence is not None and not recover:
                scan.swallowed_headers += 1
                continue
            if fence is not None:
                scan.has_unbalanced_fence = True
                scan.code_spans.append((fence[3], start))
                fence = None
            header = line
            scan.headers.append((line, start, min(end + 1, len(text))))
            continue
        char = line[0]
        run = len(line) - len(line.lstrip(char))
        info = line[run:].strip()
        if fence is None and not (char == "`" and "`" in info):
            language = info.split()[0].strip("{}.").lower() if info else ""
            fence = (char, run, language, start, min(end + 1, len(text)), header)
            scan.fence_count += 1
        elif fence is not None and char == fence[0] and run >= fence[1] and not info:
            scan.blocks.append(CodeBlock(fence[2], fence[5], fence[4], start))
            scan.code_spans.append((fence[3], end))
            fence = None
    if fence is not None and not recover:
        return None
    if fence is not None:
        scan.ends_in_open_fence = True
        scan.code_spans.append((fence[3], len(text)))
    return scan


def _closure_order(scan: ClosureScan) -> bool:
    return [_HEADERS[line] for line, _, _ in scan.headers] == _CLOSURE_ORDER


def scan_closure(text: str) -> ClosureScan:
    """Locate the closure headers and fenced code blocks of a response.

    The text is read as CommonMark first. If a fence never closes, or a closure header line sits
    inside a fence, it is read again with header lines ending any open fence; that reading wins
    when the first one leaves a fence open, or when only it finds the four sections in order.
    So one missing fence is reported as such instead of swallowing the sections after it, while
    a literal "## Result" line inside well-formed code stays code.
    """
    events = _line_events(text)
    strict = _walk(text, events, recover=False)
    if strict is not None and not strict.swallowed_headers:
        return strict
    recovered = _walk(text, events, recover=True) or ClosureScan()
    if strict is None or (_closure_order(recovered) and not _closure_order(strict)):
        return recovered
    return strict


def closure_sections(text: str, scan: ClosureScan) -> tuple[dict[Section, bool | None], bool, bool]:
    """Per section None if absent, else whether it has content; is_patch; is_closure_format."""
    has: dict[Section, bool | None] = dict.fromkeys(Section)
    seen: list[Section] = []
    is_patch = False
    headers = scan.headers
    for index, (line, _, body_start) in enumerate(headers):
        section = _HEADERS[line]
        seen.append(section)
        if has[section] is None:
            end = headers[index + 1][1] if index + 1 < len(headers) else len(text)
            body = text[body_start:end].strip()
            has[section] = bool(body) and body != ABSENT_MARKER
            is_patch = is_patch or line == SECTION_PATCH
    is_closure = seen == _CLOSURE_ORDER and not text[: headers[0][1]].strip()
    return has, is_patch, is_closure


def read_closure(text: str) -> RenderedClosure | None:
    """`text` as a rendered closure when it already is one, else None (re-rendering is a no-op).

    It is one when it starts with `## Plan` and the other headers follow, each on a line of its
    own, in order; a section holding only `ABSENT_MARKER` is absent.
    """
    if not text.startswith(SECTION_PLAN + "\n"):
        return None
    headers = [(0, SECTION_PLAN)]
    for options in ((SECTION_CODE, SECTION_PATCH), (SECTION_CHECKS,), (SECTION_RESULT,)):
        after = headers[-1][0] + len(headers[-1][1])
        found = [(text.find(f"\n{h}\n", after) + 1, h) for h in options]
        found = [(at, header) for at, header in found if at > 0]
        if not found:
            return None
        headers.append(min(found))
    derived: list[str] = []
    absent: list[str] = []
    for index, (at, header) in enumerate(headers):
        end = headers[index + 1][0] if index + 1 < len(headers) else len(text)
        body = text[at + len(header) : end].strip()
        (absent if body == ABSENT_MARKER else derived).append(header[3:].lower())
    return RenderedClosure(text, tuple(derived), tuple(absent))


def append_observed(text: str, checks: str, result: str) -> str:
    """A rendered closure with what a run observed added to its Checks and Result sections.

    `checks` (what ran) ends the Checks section and `result` (what it showed) the Result section;
    a section that held only `ABSENT_MARKER` holds the observation instead. Text that is not a
    rendered closure (`read_closure`) comes back unchanged.
    """
    if read_closure(text) is None:
        return text
    checks_at = text.find(f"\n{SECTION_CHECKS}\n") + 1
    result_at = text.find(f"\n{SECTION_RESULT}\n", checks_at) + 1
    if not 0 < checks_at < result_at:
        return text

    def _with(body: str, observed: str) -> str:
        kept = body.strip()
        return observed if kept in ("", ABSENT_MARKER) else f"{kept}\n\n{observed}"

    head = text[: checks_at + len(SECTION_CHECKS) + 1]
    checks_body = text[checks_at + len(SECTION_CHECKS) + 1 : result_at]
    result_body = text[result_at + len(SECTION_RESULT) + 1 :]
    return f"{head}{_with(checks_body, checks)}\n\n{SECTION_RESULT}\n{_with(result_body, result)}\n"


def prose_text(text: str, spans: list[tuple[int, int]]) -> str:
    """The text outside the code spans."""
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    return "\n".join(pieces)


def last_visible(text: str) -> str:
    """The last non-whitespace character of `text` ("" if none)."""
    index = len(text) - 1
    while index >= 0 and text[index].isspace():
        index -= 1
    return text[index] if index >= 0 else ""


def python_parses(code: str) -> bool:
    """Whether `ast.parse` accepts `code` dedented (`born_assets.text.python_code.parse`)."""
    return parse(code) is not None


PARSES, FAILS, UNKNOWN = "1", "0", "."
"""The characters of a fence-parse record: one per closed fence, in `scan_closure` order."""


def fence_parse_record(text: str, known: Mapping[str, bool]) -> str:
    """Encode what is already known about the Python fences of `text`.

    Args:
        text: A closure-format response.
        known: Fence body (without its final newline) -> whether it parses, as the closure
            rewrite learned while splitting code from checks.

    Returns:
        One character per closed fence of `text`: `PARSES`, `FAILS`, or `UNKNOWN` for a fence
        nobody parsed (the gates parse those themselves if their policy asks).
    """
    if not known:
        return ""
    record = []
    for block in scan_closure(text).blocks:
        outcome = known.get(text[block.start : block.end].removesuffix("\n"))
        record.append(UNKNOWN if outcome is None else PARSES if outcome else FAILS)
    return "".join(record)
