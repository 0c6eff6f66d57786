"""How `born` prints: results on stdout (text or `--json`), messages on stderr."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any


def _plain(value: Any) -> Any:
    """A JSON-ready form of the values the readers return (dataclasses, paths, timestamps)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def print_json(value: Any) -> None:
    """Print `value` as indented JSON on stdout: the result of a reading command's `--json`."""
    json.dump(value, sys.stdout, indent=2, default=_plain)
    print()


def note(message: str) -> None:
    """A message for the person at the terminal (progress, hints), on stderr."""
    print(message, file=sys.stderr)


def add_json_flag(parser: Any) -> None:
    """The `--json` option every reading command has."""
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON on stdout instead of text"
    )
