"""The code a row offers: the Python fences of its closure's `## Code` section, and what it imports.

Only the Code section is run: the row's own Checks are what it claims, the task's tests are what
is observed. A `## Patch` is a diff, not a program.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Iterable

from born_assets.text.closure import SECTION_CODE, scan_closure

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3", ""})


def code_of(response: str) -> str | None:
    """The Python code of a closure-format response's `## Code` section (None if it has none).

    Several fences are joined by a blank line, in order.
    """
    blocks = [
        response[block.start : block.end]
        for block in scan_closure(response).blocks
        if block.header == SECTION_CODE and block.language in PYTHON_TAGS
    ]
    code = "\n\n".join(b.rstrip("\n") for b in blocks if b.strip())
    return code + "\n" if code else None


def imported_modules(sources: Iterable[str]) -> set[str]:
    """Top-level modules that `sources` import (absolute imports only; unparsable source: none)."""
    found: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def third_party(modules: Iterable[str]) -> set[str]:
    """The modules that are not in the standard library."""
    return {m for m in modules if m not in sys.stdlib_module_names and m != "__future__"}


def missing(modules: Iterable[str]) -> list[str]:
    """The modules this interpreter cannot import (not installed), sorted."""
    return sorted(m for m in modules if not _importable(m))


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
