"""Split Python source into code and checks, by top-level statement (`ast`-based).

`assert`, `def test_*` / `def check`, `class Test*` / `*TestCase`, calls to `check(...)` /
`test_*(...)` / `unittest.main()` / `pytest.main()`, test-framework imports and a `__main__` guard
holding only those are checks; everything else (with its comments) is code. Python that does not
parse is a check when every line is an `assert`, else code. `born_assets.sanitize.closure` puts the
pieces into the closure's Code and Checks sections.
"""

from __future__ import annotations

import ast
import io
import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

_TEST_MODULES = frozenset({"pytest", "unittest", "hypothesis"})


def parse(source: str) -> ast.Module | None:
    """Parse `source` dedented (so a function body counts); None if it does not parse."""
    first = source.lstrip("\r\n")[:1]
    # Dedenting is a no-op for validity unless the first line is indented (and costs a regex
    # pass over the whole text), so only indented sources pay for it.
    text = textwrap.dedent(source) if first in (" ", "\t") else source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text)
        # CPython's parser reports too-deep nesting as MemoryError ("parser stack overflow").
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None


def is_code(tree: ast.Module) -> bool:
    """Whether `tree` has a statement that is not a bare expression, `pass` or annotation."""
    return any(
        not isinstance(node, ast.Expr | ast.Pass)
        and not (isinstance(node, ast.AnnAssign) and node.value is None)
        for node in tree.body
    )


def split_checks(source: str, tree: ast.Module | None) -> list[tuple[bool, str]]:
    """Cut `source` (parsed as `tree`, None if it does not parse) into (is_check, text) pieces."""
    if tree is None:
        lines = [line for line in source.splitlines() if line.strip()]
        all_asserts = bool(lines) and all(line.lstrip().startswith("assert") for line in lines)
        return [(all_asserts, source)]
    return _split_statements(source, tree.body)


@dataclass(slots=True)
class _Run:
    is_check: bool
    first: int
    end: int


def _split_statements(source: str, body: Sequence[ast.stmt]) -> list[tuple[bool, str]]:
    """Group top-level statements into runs of checks / code, each run a verbatim line slice.

    Comment and blank lines before a statement belong to it; statements sharing a line are
    one run (a check only if both are).
    """
    # The parser's lines end at \n, \r\n or \r only (not at \f or \u2028 as splitlines would).
    lines = io.StringIO(source, newline="").readlines()
    runs: list[_Run] = []
    previous_end = 0
    for node in body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
        end = node.end_lineno or node.lineno
        is_check = _is_check(node)
        if runs and first < previous_end:
            runs[-1].is_check = runs[-1].is_check and is_check
            runs[-1].end = end
        elif runs and runs[-1].is_check == is_check:
            runs[-1].end = end
        else:
            runs.append(_Run(is_check, previous_end, end))
        previous_end = end
    if runs:
        runs[-1].end = len(lines)
    slices = [(run.is_check, _trim("".join(lines[run.first : run.end]))) for run in runs]
    return [(is_check, text) for is_check, text in slices if text]


def _trim(text: str) -> str:
    lines = text.rstrip().split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def _is_check(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name.startswith("test_") or node.name == "check"
    if isinstance(node, ast.ClassDef):
        bases = [ast.unparse(base) for base in node.bases]
        return node.name.startswith("Test") or any(b.endswith("TestCase") for b in bases)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return _is_check_call(node.value)
    if isinstance(node, ast.Import):
        return all(alias.name.split(".")[0] in _TEST_MODULES for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] in _TEST_MODULES
    if isinstance(node, ast.If) and ast.unparse(node.test) in _MAIN_GUARDS:
        return all(_is_check(child) for child in node.body)
    return False


_MAIN_GUARDS = frozenset({"__name__ == '__main__'", "'__main__' == __name__"})


def _is_check_call(call: ast.Call) -> bool:
    name = ast.unparse(call.func)
    return name in ("check", "unittest.main", "pytest.main") or name.startswith("test_")
