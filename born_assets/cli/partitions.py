"""`born partitions`: release partitions of the Dagster instance that have no published release."""

from __future__ import annotations

import argparse
from typing import Any

from born_assets.cli.output import add_json_flag, note, print_json


def _partitions(args: argparse.Namespace) -> int:
    from born_assets.defs.runner import instance, junk_partitions, remove_partitions

    with instance() as dagster_instance:
        junk = junk_partitions(args.data, dagster_instance)
        if args.remove:
            remove_partitions(dagster_instance, junk)
    if args.json:
        print_json({"junk": junk, "removed": junk if args.remove else []})
        return 0
    for key in junk:
        print(key)
    if args.remove:
        note(f"{len(junk)} release partition(s) without a published release removed")
    elif junk:
        note(f"{len(junk)} release partition(s) without a published release; --remove drops them")
    return 0


def register(add: Any) -> None:
    """Add `partitions`; `add(name, run, help, example)` returns its parser."""
    command = add(
        "partitions",
        _partitions,
        "list release partitions of the Dagster instance with no published release (left by "
        "refused or failed runs); --remove deletes them",
        "born partitions\nborn partitions --remove",
    )
    command.add_argument(
        "--remove", action="store_true", help="delete them (their runs stay in the history)"
    )
    add_json_flag(command)
