"""`born` follows what scripts rely on: exit 0/1/2, results to stdout, messages to stderr.

A CI step branches on the exit status and parses stdout; a person reads one clear line on stderr,
not a stack trace. These run without building anything, so they are cheap.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from born_assets.cli.main import build_parser, main
from born_assets.layout import DataDir

BIN = Path(sys.executable).parent


def _subparsers(parser: argparse.ArgumentParser, prefix: str = "born"):
    """(command line, parser) of every subcommand, nested ones included."""
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        assert isinstance(action.choices, dict)
        for name, sub in action.choices.items():
            yield f"{prefix} {name}", sub
            yield from _subparsers(sub, f"{prefix} {name}")


def test_every_subcommand_help_shows_an_example_of_itself() -> None:
    found = list(_subparsers(build_parser()))
    assert len(found) >= 18
    for command, parser in found:
        text = parser.format_help()
        assert "example:\n  " + command in text, command


def test_born_version_prints_the_package_version() -> None:
    done = subprocess.run(
        [str(BIN / "born"), "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("born 0.") and done.stderr == ""


def test_a_subcommand_without_its_argument_is_a_usage_error_pointing_at_help(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["verify"])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "the following arguments are required: version" in captured.err
    assert "run 'born verify --help' for the options and an example" in captured.err


def test_a_refusal_is_one_line_on_stderr_and_the_stack_only_under_debug(
    tmp_path: Path, capsys
) -> None:
    assert main(["--data-dir", str(tmp_path), "verify", "v9"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("born: no release v9")
    assert main(["--data-dir", str(tmp_path), "--debug", "summary"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "make release" in err


def test_an_unexpected_error_exits_1_with_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    def broken(_data: object) -> list[object]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(DataDir, "published_releases", broken)
    assert main(["--data-dir", str(tmp_path), "releases"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "born: RuntimeError: disk on fire (--debug shows the stack)\n"


def test_no_releases_is_an_empty_json_list_and_a_message_on_stderr(tmp_path: Path, capsys) -> None:
    assert main(["--data-dir", str(tmp_path), "releases", "--json"]) == 0
    assert capsys.readouterr().out == "[]\n"
    assert main(["--data-dir", str(tmp_path), "releases"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "no releases yet" in captured.err
