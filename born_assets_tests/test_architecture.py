"""The tree reads as the pipeline only while its import rules hold, so they are checked here.

Rules (docs/architecture.md): Dagster is imported only in `defs/` and `definitions.py`; imports
point down the layers (cli and defs -> stages -> floors -> schemas and layout), never up; there is
no import cycle between modules or packages, `TYPE_CHECKING` imports included; the package root
holds only the assembly and the path owner; and no file or folder under the data dir is spelled
outside `layout.py`. Read from the sources with `ast`, so a rule cannot be dodged at runtime.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "born_assets"
LAYERS = {
    "schemas": 0,
    "layout": 0,
    "store": 1,
    "specs": 1,
    "text": 1,
    "traces": 1,
    "ingest": 2,
    "sanitize": 2,
    "curation": 2,
    "execution": 2,
    "governance": 2,
    "generation": 2,
    "review": 2,
    "release": 2,
    "defs": 3,
    "cli": 3,
    "definitions": 3,
}
DAGSTER_HOMES = {"defs", "definitions"}
ROOT_MODULES = {"__init__", "definitions", "layout"}
# File names the project writes or reads under the data dir: only layout.py may spell them.
DATA_FILE_NAME = re.compile(r"^[\w./-]+\.(parquet|duckdb|lock|jsonl|json|yaml|csv|md)$")


def modules() -> dict[str, Path]:
    """Module name (relative to the package) -> file."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)
        found[name] = path
    return found


def imported(tree: ast.AST) -> Iterator[str]:
    """Every module an `import` or `from ... import` names, TYPE_CHECKING blocks included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def package(module: str) -> str:
    return module.split(".")[0]


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Internal module -> internal modules it imports; module -> third-party top names."""
    known = modules()
    internal: dict[str, set[str]] = defaultdict(set)
    external: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        for target in imported(ast.parse(path.read_text(encoding="utf-8"))):
            if target.startswith("born_assets."):
                inner = target.removeprefix("born_assets.")
                if inner in known and inner != name:
                    internal[name].add(inner)
            else:
                external[name].add(target.split(".")[0])
    return internal, external


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every back edge found by a depth-first walk, as the cycle it closes."""
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


def test_every_package_has_a_layer() -> None:
    assert {package(m) for m in modules()} - {"__init__"} <= set(LAYERS)


def test_dagster_is_imported_only_in_defs_and_definitions() -> None:
    _, external = import_graph()
    offenders = sorted(
        name
        for name, tops in external.items()
        if any(top == "dagster" or top.startswith("dagster_") for top in tops)
        and package(name) not in DAGSTER_HOMES
    )
    assert offenders == []


def test_imports_never_point_up_a_layer() -> None:
    internal, _ = import_graph()
    upward = sorted(
        f"{a} -> {b}"
        for a, targets in internal.items()
        for b in targets
        if LAYERS.get(package(b), 0) > LAYERS.get(package(a), 0)
    )
    assert upward == []


def test_no_import_cycle_between_modules() -> None:
    internal, _ = import_graph()
    assert cycles(internal) == []


def test_no_import_cycle_between_packages() -> None:
    internal, _ = import_graph()
    packages: dict[str, set[str]] = defaultdict(set)
    for a, targets in internal.items():
        packages[package(a)] |= {package(b) for b in targets if package(b) != package(a)}
    assert cycles(packages) == []


def test_the_package_root_holds_only_the_assembly_and_the_path_owner() -> None:
    root = {name for name in modules() if "." not in name and not (PACKAGE / name).is_dir()}
    assert root <= ROOT_MODULES
    assert len(root) <= 6


def spelled_paths(tree: ast.AST) -> Iterator[ast.Constant]:
    """String constants used as path pieces (`x / "name"`, `.joinpath("name")`) or file names."""
    for node in ast.walk(tree):
        pieces: list[ast.expr] = []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            pieces = [node.left, node.right]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "joinpath":
            pieces = list(node.args)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and DATA_FILE_NAME.match(node.value)
        ):
            yield node
        for piece in pieces:
            if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                yield piece


def test_paths_under_the_data_dir_are_spelled_only_in_layout() -> None:
    spelled = [
        f"{name}:{node.lineno} {node.value!r}"
        for name, path in modules().items()
        if name != "layout"
        for node in spelled_paths(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert spelled == []


def test_the_path_rule_sees_a_hand_built_path() -> None:
    tree = ast.parse(
        'a = root / "warehouse" / x\nb = root.joinpath("releases")\nc = "rows.parquet"'
    )
    assert sorted(str(node.value) for node in spelled_paths(tree)) == [
        "releases",
        "rows.parquet",
        "warehouse",
    ]


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"a"}}, [["a", "a"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert cycles(graph) == expected
