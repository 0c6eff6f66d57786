"""A response text cut into items by meaning: prose, code the model wrote, checks it wrote.

Rules (nothing is invented; every item is source text, re-fenced at most):

* Code is each fenced block; with no fence, a response is code only when it is wholly a unified
  diff from its first `diff --git` / `--- a/` line, or wholly Python that `ast.parse`s (after
  dedent, so a function body counts) with at least one statement that is not a bare expression
  (so prose like `Paris` or `Answer: 42` stays prose).
* Python code (a `python`/`py` fence, an untagged fence that parses, bare Python) is split by
  top-level statement: `assert`, `def test_*` / `def check`, `class Test*` / `*TestCase`,
  calls to `check(...)` / `test_*(...)` / `unittest.main()`, test-framework imports and a
  `__main__` guard holding only those are checks; the rest (with its comments) is code.
  Python that does not parse is a check when every line is an `assert`, else code
  (`born_assets.text.python_code`).
* A shell fence that runs a test command (`pytest`, `go test`, `npm test`, ...) is a check.
  A diff (tagged `diff`/`patch`, or with `diff --git`, or `--- a/` + `+++ b/` + `@@` lines) is
  code marked as a diff. Other fences are code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from enum import Enum

from born_assets.sanitize.actions import fence
from born_assets.text.python_code import is_code, parse, split_checks
from born_assets.text.thinking import fenced_blocks

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


class Part(Enum):
    """Where an item goes in the closure (prose is placed by its position: plan, or a step's)."""

    PLAN = "plan"
    PROSE = "prose"
    CODE = "code"
    CHECK = "check"
    RESULT = "result"


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of a response, in order.

    Attributes:
        part: Its section (prose is placed by its position, see `closure`).
        text: Its closure text.
        is_diff: Code that is a unified diff.
        parsed: (fence body, whether it parses) for Python the split parsed.
        turn: The index of the response turn it came from.
    """

    part: Part
    text: str
    is_diff: bool = False
    parsed: tuple[str, bool] | None = None
    turn: int = 0


def text_items(text: str, turn: int = 0) -> list[Item]:
    """The items of one text, in order (rules in the module docstring)."""
    fences = fenced_blocks(text)
    if not fences:
        return _bare_items(text, turn)
    items: list[Item] = []
    position = 0
    for block in fences:
        items.extend(_prose(text[position : block.start], turn))
        items.extend(_fence_items(block.info.split()[0] if block.info else "", block.body, turn))
        position = block.end
    items.extend(_prose(text[position:], turn))
    return items


def _prose(text: str, turn: int) -> list[Item]:
    text = text.strip()
    return [Item(Part.PROSE, text, turn=turn)] if text else []


def _bare_items(text: str, turn: int) -> list[Item]:
    start = _diff_start(text)
    if start is not None:
        diff = text[start:].rstrip()
        code = Item(Part.CODE, fence(diff, "diff"), is_diff=True, turn=turn)
        return [*_prose(text[:start], turn), code]
    tree = parse(text)
    if tree is not None and is_code(tree):
        return _python_items(text, "python", tree, turn)
    return _prose(text, turn)


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


def _fence_items(lang: str, body: str, turn: int) -> list[Item]:
    kind = lang.lower()
    if kind in ("diff", "patch") or _is_diff(body):
        return [Item(Part.CODE, fence(body, lang or "diff"), is_diff=True, turn=turn)]
    tree = parse(body) if kind in PYTHON_LANGS or not kind else None
    if kind in PYTHON_LANGS or (tree is not None and is_code(tree)):
        return _python_items(body, lang, tree, turn)
    if kind in SHELL_LANGS and _runs_tests(body):
        return [Item(Part.CHECK, fence(body, lang), turn=turn)]
    return [Item(Part.CODE, fence(body, lang), turn=turn)]


def _runs_tests(body: str) -> bool:
    for line in body.splitlines():
        command = line.strip().removeprefix("$").strip()
        if any(command == c or command.startswith(c + " ") for c in TEST_COMMANDS):
            return True
    return False


def _python_items(source: str, lang: str, tree: ast.Module | None, turn: int) -> list[Item]:
    # Whole top-level statements of a module that parses parse on their own, so each piece
    # inherits the module's outcome.
    parses = tree is not None
    return [
        Item(
            Part.CHECK if is_check else Part.CODE,
            fence(text, lang),
            parsed=(text, parses),
            turn=turn,
        )
        for is_check, text in split_checks(source, tree)
    ]
