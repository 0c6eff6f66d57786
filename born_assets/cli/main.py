"""The `born` command line: the same operations as the UI, for scripts and CI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from born_assets.cli import (
    erase,
    execution,
    export,
    gc,
    history,
    inspect,
    releases,
    review,
    similar,
    sniff,
)
from born_assets.layout import DataDir

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="born", description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data dir (default: $BORN_DATA_DIR, else ./data)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(run=run)
        return sub

    releases.register(add)
    inspect.register(add)
    erase.register(add)
    execution.register(add)
    similar.register(add)
    sniff.register(add)
    export.register(add)
    review.add_review_commands(commands)
    history.register(add)
    gc.register(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `born`."""
    args = build_parser().parse_args(argv)
    args.data = DataDir.at(args.data_dir) if args.data_dir else DataDir.from_env()
    try:
        return int(args.run(args))
    except ValueError as error:  # also pydantic.ValidationError: a bad request or spec
        print(f"born: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"born: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
