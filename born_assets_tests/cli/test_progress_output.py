"""A long `born` command shows a bar on a terminal and stays quiet when piped.

A person at a terminal wants to see the build move; a CI log or a pipe wants plain lines (the
runs' INFO progress lines) and no control characters; `--quiet` wants errors only.
"""

from __future__ import annotations

import argparse
import io

import pytest

from born_assets.cli.progress import run_output
from born_assets.store.progress import Progress


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _args(**flags: bool) -> argparse.Namespace:
    return argparse.Namespace(quiet=flags.get("quiet", False), verbose=flags.get("verbose", False))


def test_a_terminal_gets_a_bar_per_loop_and_the_runs_print_errors_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with run_output(_args()) as level:
        progress = Progress("sanitize", 1_000)
        progress.advance(400)
        progress.advance(600)
        progress.finish()
    assert level == "ERROR"
    shown = terminal.getvalue()
    assert "sanitize" in shown and "1000/1000" in shown


@pytest.mark.parametrize(
    ("flags", "level"), [({}, "INFO"), ({"quiet": True}, "ERROR"), ({"verbose": True}, "DEBUG")]
)
def test_piped_quiet_and_verbose_show_no_bar(
    flags: dict[str, bool], level: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_output(_args(**flags)) as chosen:
        Progress("sanitize", 10).advance(10)
    assert chosen == level
    assert capsys.readouterr().err == ""
