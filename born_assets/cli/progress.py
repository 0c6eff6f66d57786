"""What a long `born` command shows while it runs: progress bars on a terminal, log lines if not.

On a terminal, each stage's batch loop gets a bar on stderr and the runs print only errors;
piped or redirected, the runs print their INFO lines (the stages' throttled progress lines among
them) and no bar; `--quiet` prints errors only, `--verbose` every Dagster line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from born_assets.store.progress import Step, listening


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


@contextmanager
def _bars() -> Iterator[None]:
    with _bar() as bar:
        tasks: dict[str, TaskID] = {}

        def show(step: Step) -> None:
            if step.label not in tasks:
                tasks[step.label] = bar.add_task(step.label, total=step.total)
            total = step.done if step.finished else step.total
            bar.update(tasks[step.label], completed=step.done, total=total)

        with listening(show):
            yield


@contextmanager
def run_output(args: argparse.Namespace) -> Iterator[str]:
    """Show progress as `args` and stderr allow; yields the log level the runs print at."""
    if args.quiet:
        yield "ERROR"
    elif args.verbose:
        yield "DEBUG"
    elif sys.stderr.isatty():
        with _bars():
            yield "ERROR"  # per-row warnings would tear the bars; the summary counts them
    else:
        yield "INFO"
