"""A publish that dies or fails at any step leaves the old folder or the new one, never neither.

Releases and their erasure rewrites are published by `publish_dir`; a crash between two renames
once lost a release. Every step is driven to fail (an I/O error, a full disk) and to die (the
process ends with no cleanup, as with `kill -9`), and each case must read whole and rerun clean.
The version ledger must keep a name issued even when the release itself is gone.
"""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from born_assets.layout import DataDir
from born_assets.release.catalog import next_version
from born_assets.release.ledger import issued_versions, record_issued, recover_releases
from born_assets.release.publish import _sweep_scratch
from born_assets.store.atomic import FAULT_ENV, InjectedFault, publish_dir

POINTS = ["publish.synced", "publish.linked", "publish.retired", "publish.swapped"]
CASES = [(p, old) for p in POINTS for old in (True, False) if old or p != "publish.retired"]
"""`publish.retired` is the step that turns a plain folder into a link: legacy targets only."""


def folder_with(parent: Path, name: str, text: str) -> Path:
    folder = parent / name
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "t.txt").write_text(text)
    return folder


def content(target: Path) -> str:
    return (target / "data" / "t.txt").read_text()


def start(tmp_path: Path, legacy: bool) -> Path:
    """`releases/v1` holding "old": a plain folder (legacy) or a published link."""
    releases = tmp_path / "releases"
    if legacy:
        return folder_with(releases, "v1", "old")
    target = releases / "v1"
    publish_dir(folder_with(releases, ".tmp-a", "old"), target)
    return target


def test_publish_replaces_a_link_or_a_plain_folder_and_leaves_no_scratch(tmp_path: Path) -> None:
    for legacy in (True, False):
        target = start(tmp_path / str(legacy), legacy)
        publish_dir(folder_with(target.parent, ".tmp-b", "new"), target)
        assert target.is_symlink() and content(target) == "new"
        assert len(list(target.parent.iterdir())) == 2  # the link and its version


@pytest.mark.parametrize("mode", ["", "enospc"])
@pytest.mark.parametrize(("point", "legacy"), CASES)
def test_a_failed_step_leaves_a_whole_folder_and_the_rerun_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str, mode: str, legacy: bool
) -> None:
    target = start(tmp_path, legacy)
    monkeypatch.setenv(FAULT_ENV, f"{point}:{mode}")
    with pytest.raises(InjectedFault) as failed:
        publish_dir(folder_with(target.parent, ".tmp-b", "new"), target)
    assert failed.value.errno == (errno.ENOSPC if mode else errno.EIO)
    recover_target(target)
    assert content(target) in ({"old"} if point != "publish.swapped" else {"new"})
    monkeypatch.delenv(FAULT_ENV)
    publish_dir(folder_with(target.parent, ".tmp-c", "newer"), target)
    assert content(target) == "newer"


def recover_target(target: Path) -> None:
    data = DataDir.at(target.parent.parent)
    record_issued(data, target.name, "f" * 64)
    recover_releases(data)


@pytest.mark.parametrize(("point", "legacy"), CASES)
def test_a_process_killed_at_any_step_leaves_a_whole_folder(
    tmp_path: Path, point: str, legacy: bool
) -> None:
    target = start(tmp_path, legacy)
    folder_with(target.parent, ".tmp-b", "new")
    script = (
        "import sys\nfrom pathlib import Path\n"
        "from born_assets.store.atomic import publish_dir\n"
        "publish_dir(Path(sys.argv[1]) / '.tmp-b', Path(sys.argv[1]) / 'v1')\n"
    )
    env = {"PATH": "/usr/bin:/bin", FAULT_ENV: f"{point}:kill"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(target.parent)], env=env, check=False, timeout=120
    )
    assert done.returncode == 137
    recover_target(target)
    assert content(target) in {"old", "new"}
    publish_dir(folder_with(target.parent, ".tmp-c", "newer"), target)
    assert content(target) == "newer"


def test_the_ledger_keeps_a_version_issued_after_its_release_is_gone(tmp_path: Path) -> None:
    data = DataDir.at(tmp_path)
    assert next_version(data) == "v1"
    record_issued(data, "v1", "a" * 64)
    record_issued(data, "v2", "b" * 64)
    record_issued(data, "v1", "c" * 64)  # already issued: the first entry stands
    assert issued_versions(data) == {"v1": "a" * 64, "v2": "b" * 64}
    assert next_version(data) == "v3"  # no release folder exists, yet v1 and v2 are taken


def test_a_torn_last_ledger_line_was_never_issued(tmp_path: Path) -> None:
    data = DataDir.at(tmp_path)
    record_issued(data, "v1", "a" * 64)
    with data.version_ledger.open("a") as ledger:
        ledger.write('{"version": "v2", "input_fing')
    assert issued_versions(data) == {"v1": "a" * 64}
    record_issued(data, "v3", "c" * 64)  # the next issue ends the torn line first
    record_issued(data, "v4", "d" * 64)
    assert issued_versions(data) == {"v1": "a" * 64, "v3": "c" * 64, "v4": "d" * 64}
    assert data.version_ledger.read_text().count("\n") == 4


def test_a_version_killed_between_its_rename_and_its_link_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    """The next cut removes the hidden copy and link of a version that never became visible."""
    releases = tmp_path / "releases"
    live = releases / ".v1.0123456789abcdef"
    live.mkdir(parents=True)
    (live / "release.json").write_text("{}")
    (releases / "v1").symlink_to(live.name, target_is_directory=True)  # published
    lost = releases / ".v2.fedcba9876543210"
    lost.mkdir()
    (lost / "release.json").write_text("{}")
    (releases / ".v2.link-fedcba9876543210").symlink_to(lost.name, target_is_directory=True)
    _sweep_scratch(releases)
    assert sorted(p.name for p in releases.iterdir()) == [".v1.0123456789abcdef", "v1"]
