"""A release version names a folder and a Dagster partition, so it is checked as a whole string.

A name that only looks right (`v9` plus a newline) once published a folder named so, which
`born verify v9` could not find, and an empty `--version ""` silently cut the next `vN`. Both
are usage errors, refused before anything is built.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from born_assets.cli.main import main
from born_assets.defs import runner
from born_assets.layout import DataDir
from born_assets.release.catalog import next_version
from born_assets.release.ledger import record_issued
from born_assets.release.publish import is_version_name


@pytest.mark.parametrize("name", ["v1", "v12", "2026.01", "v1-rc_2", "a" * 64])
def test_plain_version_names_pass(name: str) -> None:
    assert is_version_name(name)


@pytest.mark.parametrize(
    "name", ["", "v9\n", "\nv9", "v9 ", "v 9", ".v9", "-v9", "a/b", "..", "a" * 65, "v9\r"]
)
def test_a_name_that_only_starts_right_is_refused(name: str) -> None:
    assert not is_version_name(name)


@pytest.mark.parametrize("name", ["v9\n", ""])
def test_born_release_refuses_it_before_building(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch, name: str
) -> None:
    def build(*_args: object, **_kwargs: object) -> None:
        raise AssertionError(f"a release was built for {name!r}")

    monkeypatch.setattr(runner, "materialize_release", build)
    assert main(["--data-dir", str(data_dir), "release", "--version", name]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"born: release version {name!r} is not a valid name")
    assert not (data_dir / "releases").exists() and not (data_dir / "warehouse").exists()


def test_the_next_version_counts_only_whole_vn_names(tmp_path: Path) -> None:
    data = DataDir.at(tmp_path)
    record_issued(data, "v9\n", "a" * 64)  # as the old check let through
    record_issued(data, "v2", "b" * 64)
    assert next_version(data) == "v3"
