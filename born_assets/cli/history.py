"""`born history EXAMPLE_ID`: every release a row appeared in, and its fate in each."""

from __future__ import annotations

import argparse
from typing import Any

import duckdb

from born_assets.release.history import format_history, row_history


def _history(args: argparse.Namespace) -> int:
    with duckdb.connect() as con:
        history = row_history(con, args.data, args.example_id)
    print(format_history(args.example_id, history))
    return 0 if history else 1


def register(add: Any) -> None:
    """Add `history`; `add(name, run, help)` returns the subcommand's parser."""
    history = add("history", _history, "every release an example appeared in, with its fate")
    history.add_argument("example_id")
