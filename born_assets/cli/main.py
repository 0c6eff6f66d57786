"""The `born` command line: the same operations as the UI, for scripts and CI.

Exit status: 0 success, 1 the command ran and found a failure (a failed run, a changed file, an
unknown example), 2 a usage error (bad arguments, a refused request, a missing release or build).
Results go to stdout (`--json` on every reading command), messages to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn

from born_assets.cli import (
    erase,
    execution,
    export,
    gc,
    history,
    inspect,
    partitions,
    releases,
    review,
    similar,
    sniff,
)
from born_assets.cli.output import note
from born_assets.layout import DataDir

Command = Callable[[argparse.Namespace], int]
USAGE_ERROR = 2
FAILURE = 1


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors say how to get help with an example."""

    def error(self, message: str) -> NoReturn:
        """Usage, the error, and where the examples are; exit status 2."""
        self.print_usage(sys.stderr)
        self.exit(
            USAGE_ERROR,
            f"{self.prog}: error: {message}\nrun '{self.prog} --help' for the options and an "
            "example\n",
        )


def with_example(parser: argparse.ArgumentParser, example: str) -> argparse.ArgumentParser:
    """Show `example` (one command a line) at the end of the subcommand's `--help`."""
    lines = "\n".join(f"  {line}" for line in example.strip().splitlines())
    parser.epilog = f"example:\n{lines}"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = Parser(
        prog="born",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  born release --version v3\n  born releases --json",
    )
    parser.add_argument("--version", action="version", version=f"born {version('born_assets')}")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data dir (default: $BORN_DATA_DIR, else ./data)",
    )
    parser.add_argument(
        "--debug", action="store_true", help="on an error, print the whole stack trace too"
    )
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="no progress and no messages, results only"
    )
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="every log line of the run (DEBUG)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, run: Command, help_text: str, example: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return with_example(sub, example)

    releases.register(add)
    inspect.register(add)
    erase.register(add)
    execution.register(add)
    similar.register(add)
    sniff.register(add)
    export.register(add)
    review.add_review_commands(commands, with_example)
    history.register(add)
    partitions.register(add)
    gc.register(add)
    return parser


def _refusal(error: BaseException, args: argparse.Namespace, status: int) -> int:
    """One line on stderr (the stack too under `--debug`); `status` is the exit status."""
    if args.debug:
        traceback.print_exception(error, file=sys.stderr)
    text = str(error).strip() or type(error).__name__
    if status == FAILURE:
        text = f"{type(error).__name__}: {text}"
    hint = "" if args.debug else " (--debug shows the stack)"
    note(f"born: {text}{hint}" if status == FAILURE else f"born: {text}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `born`."""
    args = build_parser().parse_args(argv)
    args.data = DataDir.at(args.data_dir) if args.data_dir else DataDir.from_env()
    try:
        return int(args.run(args))
    except BrokenPipeError:  # the reader stopped reading (`born releases --json | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 0
    except (ValueError, FileNotFoundError) as error:  # also pydantic.ValidationError
        return _refusal(error, args, USAGE_ERROR)
    except Exception as error:  # every other error: one line, the stack only under --debug
        return _refusal(error, args, FAILURE)


if __name__ == "__main__":
    sys.exit(main())
