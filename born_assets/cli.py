"""The `born` command line: the same operations as the UI, for scripts and CI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from born_assets.manifests import load_manifests
from born_assets.project import data_dir_from_env
from born_assets.reports import fate_summary, format_summary


def _summary(args: argparse.Namespace) -> int:
    print(format_summary(fate_summary(args.data_dir)))
    return 0


def _manifests(args: argparse.Namespace) -> int:
    loaded, errors = load_manifests(args.data_dir / "manifests", args.data_dir)
    for item in loaded:
        m = item.manifest
        print(
            f"ok     {m.lane_id}: {m.benchmark_family}, teacher {m.teacher.model} "
            f"({m.teacher.version}), {len(item.task_ids)} tasks, {item.path.name}"
        )
    for error in errors:
        print(f"ERROR  {error}", file=sys.stderr)
    return 1 if errors else 0


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
    commands.add_parser(
        "summary", help="lines read and lines per fate, per lane and import"
    ).set_defaults(run=_summary)
    commands.add_parser(
        "manifests", help="validate every lane manifest; exit 1 on any error"
    ).set_defaults(run=_manifests)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `born`."""
    args = build_parser().parse_args(argv)
    args.data_dir = (args.data_dir or data_dir_from_env()).resolve()
    try:
        return int(args.run(args))
    except FileNotFoundError as error:
        print(f"born: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
