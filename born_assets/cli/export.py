"""`born export --format trl|openai RELEASE`: a release's conversations as JSONL for a trainer."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from born_assets.release.export import ExportFormat, export_release
from born_assets.store.atomic import replacing


def _export(args: argparse.Namespace) -> int:
    release = args.data.release(args.version)
    if not release.is_published():
        raise FileNotFoundError(f"no release {args.version} under {release.path.parent}")
    fmt = ExportFormat(args.format)
    if args.out == "-":
        written = export_release(release, fmt, sys.stdout)
    else:
        with (
            replacing(args.data.output(args.out, "--out")) as temporary,
            temporary.open("w", encoding="utf-8") as out,
        ):
            written = export_release(release, fmt, out)
    print(f"release {args.version}: {written} rows written as {fmt.value} JSONL", file=sys.stderr)
    return 0


def register(add: Any) -> None:
    """Add `export`; `add(name, run, help, example)` returns its parser."""
    command = add(
        "export",
        _export,
        "write a release's messages and tools as JSONL for TRL or OpenAI",
        "born export v1 --format trl --out v1-trl.jsonl",
    )
    command.add_argument("version", help="the release version, e.g. v1")
    command.add_argument(
        "--format", required=True, choices=[f.value for f in ExportFormat], help="the trainer"
    )
    command.add_argument(
        "--out",
        default="-",
        help="output JSONL file, written whole or not at all; not inside releases/ (default: "
        "stdout)",
    )
