"""Rewrite a visible response into the closure format: Plan, Code (or Patch), Checks, Result.

Derivation rules (nothing is invented; every section body is source text, verbatim, apart from
re-fencing and the `Tool call` / `Tool result` labels):

* The response is cut into prose and code. Code is each fenced block; with no fence, a response
  is code only when it is wholly a unified diff from its first `diff --git` / `--- a/` line, or
  wholly Python that `ast.parse`s (after dedent, so a function body counts) with at least one
  statement that is not a bare expression (so prose like `Paris` or `Answer: 42` stays prose).
* Python code (a `python`/`py` fence, an untagged fence that parses, bare Python) is split by
  top-level statement: `assert`, `def test_*` / `def check`, `class Test*` / `*TestCase`,
  calls to `check(...)` / `test_*(...)` / `unittest.main()`, test-framework imports and a
  `__main__` guard holding only those go to Checks; the rest (with its comments) to Code.
  Python that does not parse goes whole to Checks when every line is an `assert`, else to Code
  (`born_assets.text.python_code`).
* A shell fence that runs a test command (`pytest`, `go test`, `npm test`, ...) goes to Checks.
  A diff (tagged `diff`/`patch`, or with `diff --git`, or `--- a/` + `+++ b/` + `@@` lines) goes to
  Code; the header is `## Patch` when every Code item is a diff. Other fences go to Code.
* Every tool call (arguments as JSON) and tool result goes to Checks, in order: the source ran it.
* Prose after the last code/check item is the Result; all other prose is the Plan. A response
  with no code and no checks is all Result.
* A section with nothing derived holds exactly `ABSENT_MARKER`.
* Idempotent: text that already starts with `## Plan` and has the other headers in order comes
  back unchanged.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from born_assets.text.closure import read_closure, render_closure
from born_assets.text.python_code import is_code, parse, split_checks
from born_assets.text.thinking import BACKTICK_RUNS as _BACKTICKS
from born_assets.text.thinking import fenced_blocks
from born_assets.traces.conversation import Block, BlockKind, Role, Turn

PYTHON_LANGS = frozenset({"python", "py", "python3", "py3"})
SHELL_LANGS = frozenset({"bash", "sh", "shell", "console", "zsh", "shell-session", "terminal"})
TEST_COMMANDS = (
    "pytest",
    "python -m pytest",
    "python3 -m pytest",
    "python -m unittest",
    "python3 -m unittest",
    "tox",
    "nox",
    "npm test",
    "npm run test",
    "yarn test",
    "pnpm test",
    "go test",
    "cargo test",
    "make test",
    "mvn test",
    "gradle test",
    "./gradlew test",
    "ctest",
)
"""Commands whose presence makes a shell block a check."""

_DIFF_STARTS = ("diff --git", "--- a/")


@dataclass(frozen=True, slots=True)
class ClosureResult:
    """A closure-format text and which sections were derived from the source or absent."""

    text: str
    derived: tuple[str, ...]
    absent: tuple[str, ...]
    python_parses: dict[str, bool] = field(default_factory=dict)
    """Fence body -> whether it parses, for each Python fence the rewrite parsed (so later
    stages need not parse it again)."""


class _Part(Enum):
    PROSE = "prose"
    CODE = "code"
    CHECK = "check"


@dataclass(frozen=True, slots=True)
class _Item:
    part: _Part
    text: str
    is_diff: bool = False
    parsed: tuple[str, bool] | None = None
    """(fence body, whether it parses) for Python the rewrite parsed."""


def to_closure(visible_response: str | tuple[Turn, ...]) -> ClosureResult:
    """Rewrite a visible response (text, or turns without hidden blocks) into closure format.

    Args:
        visible_response: Teacher text after `strip_thinking`, or response turns after
            `strip_turns`. From turns, assistant text, tool calls and tool results are used;
            user and system text is not part of the response's closure.

    Returns:
        The closure text and the derived / absent section names (`plan`, `code` or `patch`,
        `checks`, `result`).

    Raises:
        ValueError: The turns still hold thinking blocks.
    """
    if isinstance(visible_response, str):
        known = read_closure(visible_response)
        if known is not None:
            return ClosureResult(known.text, known.derived, known.absent)
        return _render(_text_items(visible_response))
    blocks = [(turn.role, block) for turn in visible_response for block in turn.blocks]
    texts = [b.text for role, b in blocks if role is Role.ASSISTANT and b.kind is BlockKind.TEXT]
    has_tools = any(b.kind in (BlockKind.TOOL_CALL, BlockKind.TOOL_RESULT) for _, b in blocks)
    if len(texts) == 1 and not has_tools:
        return to_closure(texts[0])
    return _render(_turn_items(visible_response))


def _turn_items(turns: Iterable[Turn]) -> list[_Item]:
    items: list[_Item] = []
    for turn in turns:
        for block in turn.blocks:
            if block.kind in (BlockKind.THINKING, BlockKind.REDACTED_THINKING):
                raise ValueError("to_closure needs visible turns: run strip_turns first")
            if block.kind is BlockKind.TOOL_CALL:
                items.append(_Item(_Part.CHECK, _labelled("Tool call", block, "json")))
            elif block.kind is BlockKind.TOOL_RESULT or turn.role is Role.TOOL:
                items.append(_Item(_Part.CHECK, _labelled("Tool result", block, "")))
            elif turn.role is Role.ASSISTANT:
                items.extend(_text_items(block.text))
    return items


def _labelled(label: str, block: Block, lang: str) -> str:
    name = f" `{block.name}`" if block.name else ""
    return f"{label}{name}:\n{_fence(block.text, lang)}"


def _fence(body: str, lang: str) -> str:
    """Fence `body` with a backtick run longer than any inside it, tagged `lang`."""
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{body}\n{ticks}" if body else f"{ticks}{lang}\n{ticks}"


def _text_items(text: str) -> list[_Item]:
    fences = fenced_blocks(text)
    if not fences:
        return _bare_items(text)
    items: list[_Item] = []
    position = 0
    for block in fences:
        items.extend(_prose(text[position : block.start]))
        items.extend(_fence_items(block.info.split()[0] if block.info else "", block.body))
        position = block.end
    items.extend(_prose(text[position:]))
    return items


def _prose(text: str) -> list[_Item]:
    text = text.strip()
    return [_Item(_Part.PROSE, text)] if text else []


def _bare_items(text: str) -> list[_Item]:
    start = _diff_start(text)
    if start is not None:
        diff = text[start:].rstrip()
        return [*_prose(text[:start]), _Item(_Part.CODE, _fence(diff, "diff"), is_diff=True)]
    tree = parse(text)
    if tree is not None and is_code(tree):
        return _python_items(text, "python", tree)
    return _prose(text)


def _diff_start(text: str) -> int | None:
    starts = []
    for marker in _DIFF_STARTS:
        if text.startswith(marker):
            starts.append(0)
        elif (at := text.find("\n" + marker)) >= 0:
            starts.append(at + 1)
    if not starts or not _is_diff(text[min(starts) :]):
        return None
    return min(starts)


def _at_line_start(text: str, marker: str) -> bool:
    return text.startswith(marker) or f"\n{marker}" in text


def _is_diff(body: str) -> bool:
    if _at_line_start(body, "diff --git"):
        return True
    return all(_at_line_start(body, marker) for marker in ("--- a/", "+++ b/", "@@"))


def _fence_items(lang: str, body: str) -> list[_Item]:
    kind = lang.lower()
    if kind in ("diff", "patch") or _is_diff(body):
        return [_Item(_Part.CODE, _fence(body, lang or "diff"), is_diff=True)]
    tree = parse(body) if kind in PYTHON_LANGS or not kind else None
    if kind in PYTHON_LANGS or (tree is not None and is_code(tree)):
        return _python_items(body, lang, tree)
    if kind in SHELL_LANGS and _runs_tests(body):
        return [_Item(_Part.CHECK, _fence(body, lang))]
    return [_Item(_Part.CODE, _fence(body, lang))]


def _runs_tests(body: str) -> bool:
    for line in body.splitlines():
        command = line.strip().removeprefix("$").strip()
        if any(command == c or command.startswith(c + " ") for c in TEST_COMMANDS):
            return True
    return False


def _python_items(source: str, lang: str, tree: ast.Module | None) -> list[_Item]:
    # Whole top-level statements of a module that parses parse on their own, so each piece
    # inherits the module's outcome.
    parses = tree is not None
    return [
        _Item(_Part.CHECK if is_check else _Part.CODE, _fence(text, lang), parsed=(text, parses))
        for is_check, text in split_checks(source, tree)
    ]


def _render(items: list[_Item]) -> ClosureResult:
    last = max((i for i, item in enumerate(items) if item.part is not _Part.PROSE), default=-1)
    code = [item for item in items if item.part is _Part.CODE]
    rendered = render_closure(
        plan=[item.text for item in items[: last + 1] if item.part is _Part.PROSE],
        code=[item.text for item in code],
        checks=[item.text for item in items if item.part is _Part.CHECK],
        result=[item.text for item in items[last + 1 :]],
        is_patch=bool(code) and all(item.is_diff for item in code),
    )
    parses = dict(item.parsed for item in items if item.parsed is not None)
    return ClosureResult(rendered.text, rendered.derived, rendered.absent, parses)
