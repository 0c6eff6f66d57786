"""`born history EXAMPLE_ID`: every release a row appeared in, and its fate in each."""

from __future__ import annotations

import argparse
from typing import Any

import duckdb

from born_assets.cli.output import add_json_flag, print_json
from born_assets.release.history import format_history, row_history


def _history(args: argparse.Namespace) -> int:
    with duckdb.connect() as con:
        history = row_history(con, args.data, args.example_id)
    if args.json:
        print_json({"example_id": args.example_id, "releases": history})
    else:
        print(format_history(args.example_id, history))
    return 0 if history else 1


def register(add: Any) -> None:
    """Add `history`; `add(name, run, help, example)` returns its parser."""
    history = add(
        "history",
        _history,
        "every release an example appeared in, with its fate",
        "born history ex_4a7ee04f7a0ce3082e0c1717 --json",
    )
    history.add_argument("example_id")
    add_json_flag(history)
