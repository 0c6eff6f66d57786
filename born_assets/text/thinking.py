"""Strip hidden reasoning from text and turns, leaving what a user would see.

Rules (the contract the `sanitized` stage and its checks rely on):

* A hidden region starts at an opening tag from `HIDDEN_TAGS` and ends at the matching closing
  tag. Tags match in any case, with or without attributes, written raw (`<think>`) or
  HTML-escaped (`&lt;think&gt;`, `&#60;think&#62;`, `&#x3c;think&#x3e;`). A self-closing tag
  (`<think/>`) is an empty region.
* Regions nest: every hidden opening tag deepens the region and every hidden closing tag (of any
  hidden name) closes one level, so `<thinking>..<reflection>..</reflection>..</thinking>` is one
  region.
* Unclosed opening tag (DeepSeek-R1 convention): everything after it is hidden. No attempt is
  made to guess where a "visible answer" starts; if nothing remains the row is quarantined.
* Stray closing tag with no opener (R1 templates pre-fill `<think>` in the prompt): everything
  from the start of the text up to and including the closing tag is hidden.
* Code is code: a tag inside a fenced code block (backticks or tildes, any indentation, an
  unclosed fence runs to the end) or an inline code span (closed on the same line) is text and
  survives.
* A removed region that starts a line also takes the whitespace after it, so R1's
  `<think>..</think>`, a blank line, then `Answer` becomes `Answer`; one that follows a space
  takes the spaces after it, so `a <think>x</think> b` becomes `a b`; elsewhere it takes nothing.
  `StripStats.chars` counts every removed character: `len(text) - len(stripped)`.

`find_hidden_markers` uses the same scanner, and `strip_thinking` re-checks its output, so after
stripping no marker is ever found.

Reasoning can also be smuggled through a tool: a "think" tool (tau-bench, Anthropic's think tool,
the sequential-thinking MCP server) takes the model's reasoning as its argument and returns
nothing new. `is_think_tool` names them: a tool whose name, lowercased without separators, is one
of `THINK_TOOL_NAMES`. The scan is linear: one precompiled regex whose attribute run
cannot backtrack, plus a line scan for code that only runs when a tag candidate exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

HIDDEN_TAGS: tuple[str, ...] = (
    "think",
    "thinking",
    "thought",
    "reasoning",
    "reflection",
    "scratchpad",
)
"""Tag names whose content is hidden reasoning (matched case-insensitively)."""

THINK_TOOL_NAMES = frozenset({*HIDDEN_TAGS, "reflect", "sequentialthinking"})
"""Tool names (lowercased, separators removed) whose calls carry hidden reasoning."""

_LT = r"(?:<|&lt;|&#0*60;|&#x0*3c;)"
_GT = r"(?:>|&gt;|&#0*62;|&#x0*3e;)"
_NAMES = "|".join(sorted(HIDDEN_TAGS, key=len, reverse=True))
# The attribute run (group 2) is possessive and stops before any tag bracket, raw or escaped, so
# a candidate never backtracks and never scans past the next tag: the whole scan is linear.
# Line breaks are white space inside a tag as anywhere in XML (`<think\n>`, `<think\n id="1">`).
_ATTRIBUTE_CHAR = r"(?:[^<>&]|&(?!(?:lt|gt);|#0*6[02];|#x0*3[ce];))"
_TAG_RE = re.compile(
    _LT + r"(/?)(?:" + _NAMES + r")(?![\w-])(" + _ATTRIBUTE_CHAR + r"{0,256}+)" + _GT,
    re.IGNORECASE,
)
TAG_CANDIDATE = _LT + r"/?(?:" + _NAMES + ")"
"""A looser pattern (also valid RE2, for Arrow) that every hidden-reasoning tag matches."""
BACKTICK_RUNS = re.compile(r"`+")
"""Runs of backticks (shared with the closure fencer)."""
_FENCE_LINE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[^\n]*", re.MULTILINE)
_ALL_WHITESPACE = re.compile(r"\s*")
_BLANKS = re.compile(r"[ \t]*")


@dataclass(frozen=True, slots=True)
class StripStats:
    """What one stripping step removed: `blocks` hidden regions, `chars` characters."""

    blocks: int = 0
    chars: int = 0

    def __add__(self, other: StripStats) -> StripStats:
        return StripStats(self.blocks + other.blocks, self.chars + other.chars)


class Fence(NamedTuple):
    """A fenced code block: `text[start:end]` is the whole block, `body` its content."""

    start: int
    end: int
    info: str
    body: str


def fenced_blocks(text: str) -> list[Fence]:
    """Return the fenced code blocks of `text` in order (an unclosed fence runs to the end)."""
    if "```" not in text and "~~~" not in text:
        return []
    return [fence for fence in _scan_code(text) if isinstance(fence, Fence)]


def code_ranges(text: str) -> list[tuple[int, int]]:
    """Return sorted, disjoint `(start, end)` ranges of fenced blocks and inline code spans."""
    if "`" not in text and "~~~" not in text:
        return []
    return [
        (item.start, item.end) if isinstance(item, Fence) else item for item in _scan_code(text)
    ]


def _scan_code(text: str) -> Iterator[Fence | tuple[int, int]]:
    """Yield fences and inline spans in order, jumping between fence-like lines by regex."""
    outside_from = 0
    opener: tuple[str, int, str, int, int] | None = None  # char, length, info, start, body start
    for line in _FENCE_LINE.finditer(text):
        if opener is None:
            found = _opens(line.group(0))
            if found is not None:
                yield from _inline_spans(text, outside_from, line.start())
                opener = (*found, line.start(), line.end() + 1)
        elif _closes(line.group(0), opener[0], opener[1]):
            body_start = opener[4]
            body = text[body_start : max(body_start, line.start() - 1)]
            yield Fence(opener[3], line.end(), opener[2], body)
            opener, outside_from = None, line.end()
    if opener is not None:
        yield Fence(opener[3], len(text), opener[2], text[min(opener[4], len(text)) :])
    else:
        yield from _inline_spans(text, outside_from, len(text))


def _opens(line: str) -> tuple[str, int, str] | None:
    stripped = line.lstrip(" \t")
    char = stripped[0]
    length = len(stripped) - len(stripped.lstrip(char))
    info = stripped[length:].strip()
    if char == "`" and "`" in info:
        return None
    return char, length, info


def _closes(line: str, char: str, length: int) -> bool:
    stripped = line.strip(" \t\r")
    return len(stripped) >= length and stripped == char * len(stripped)


def _inline_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield inline code spans in `text[start:end]`; a span opens and closes on one line."""
    if text.find("`", start, end) < 0:
        return
    line: list[tuple[int, int]] = []
    line_end = -1
    for run in BACKTICK_RUNS.finditer(text, start, end):
        if run.start() > line_end:
            yield from _pair_runs(line)
            line = []
            line_end = text.find("\n", run.start(), end)
            line_end = end if line_end < 0 else line_end
        line.append(run.span())
    yield from _pair_runs(line)


def _pair_runs(runs: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Pair each backtick run with the next run of the same length (CommonMark code spans)."""
    next_same: list[int] = [-1] * len(runs)
    last: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        next_same[index] = last.get(length, -1)
        last[length] = index
    index = 0
    while index < len(runs):
        closer = next_same[index]
        if closer < 0:
            index += 1
            continue
        yield runs[index][0], runs[closer][1]
        index = closer + 1


def _markers(text: str) -> list[re.Match[str]]:
    """Hidden-tag matches outside code, scanning only the gaps between code ranges."""
    if _TAG_RE.search(text) is None:
        return []
    found: list[re.Match[str]] = []
    gap_start = 0
    for start, end in [*code_ranges(text), (len(text), len(text))]:
        if start > gap_start:
            found.extend(_TAG_RE.finditer(text, gap_start, start))
        gap_start = max(gap_start, end)
    return found


def hidden_spans(text: str) -> list[tuple[int, int]]:
    """Return the sorted `(start, end)` regions of hidden reasoning in `text` (tags included)."""
    spans: list[tuple[int, int]] = []
    depth, open_at = 0, 0
    for match in _markers(text):
        is_close = match.group(1) == "/"
        self_closing = match.group(2).endswith("/")
        if is_close and depth == 0:
            spans = [(0, match.end())]  # stray closer: everything before it was thinking
        elif is_close:
            depth -= 1
            if depth == 0:
                spans.append((open_at, match.end()))
        elif self_closing:
            if depth == 0:
                spans.append((match.start(), match.end()))
        else:
            if depth == 0:
                open_at = match.start()
            depth += 1
    if depth:
        spans.append((open_at, len(text)))
    return spans


def _remove(text: str, spans: Iterable[tuple[int, int]]) -> str:
    pieces: list[str] = []
    keep_from = 0
    for start, end in spans:
        if start > keep_from:
            pieces.append(text[keep_from:start])
        before = pieces[-1][-1] if pieces else ""
        eat = _ALL_WHITESPACE if before in ("", "\n") else _BLANKS if before in " \t" else None
        after = eat.match(text, end) if eat else None
        keep_from = max(keep_from, after.end() if after else end)
    pieces.append(text[keep_from:])
    return "".join(pieces)


def strip_thinking(text: str) -> tuple[str, StripStats]:
    """Remove inline hidden reasoning from `text`.

    Args:
        text: Visible-candidate text (a teacher response, a rendered prompt, a text block).

    Returns:
        The text without hidden regions, and how many regions and characters were removed.
    """
    spans = hidden_spans(text)
    if not spans:
        return text, StripStats()
    stripped = _remove(text, spans)
    leftover = _markers(stripped)
    if leftover:
        # Removing a region glued two fragments into a new tag: hide from it to the end.
        stripped = stripped[: leftover[0].start()]
    return stripped, StripStats(len(spans), len(text) - len(stripped))


def find_hidden_markers(text: str) -> list[str]:
    """Return every hidden-reasoning tag found outside code, as written (empty when clean)."""
    return [match.group(0) for match in _markers(text)]


def is_think_tool(name: str | None) -> bool:
    """Whether a tool of this name exists to hold the model's reasoning (see the module doc)."""
    if not name:
        return False
    return "".join(char for char in name.lower() if char.isalnum()) in THINK_TOOL_NAMES
