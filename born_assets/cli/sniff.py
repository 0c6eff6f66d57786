"""`born sniff FILE`: try every trace format on a file's first records, print the spec lines."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from born_assets.ingest.sniff import format_report, sniff


def _sniff(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    report = sniff(path, args.records)
    print(format_report(report))
    return 0 if report.outcomes and report.outcomes[0].adapted else 1


def register(add: Any) -> None:
    """Add `sniff`; `add(name, run, help, example)` returns its parser."""
    command = add(
        "sniff",
        _sniff,
        "try every trace format on a file's first records; print how many each adapts and the "
        "import-spec lines of the best",
        "born sniff traces.jsonl --records 50",
    )
    command.add_argument("file", help="a .jsonl, .jsonl.gz, .jsonl.zst or .json file")
    command.add_argument(
        "--records", type=int, default=20, help="how many records to try (default 20)"
    )
