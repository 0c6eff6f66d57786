"""`born release` launches the code location's own jobs, so the runs timeline shows CLI releases.

A release manager looks for a release on the runs timeline by job name and tags; a refused
version must not stay behind as a partition forever, and the release says what changed since the
previous one and which version to cut next.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from born_assets.cli.main import main
from born_assets.defs.assets import release as release_asset
from born_assets.defs.runner import PARTITIONS
from born_assets.release.publish import ReleaseRefused
from born_assets_tests.conftest import REPO


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A persistent Dagster instance, as `make release` and `make ui` share it."""
    folder = tmp_path / "dagster_home"
    folder.mkdir()
    shutil.copy(REPO / "dagster.yaml", folder / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(folder))
    monkeypatch.setenv("BORN_USER", "release-manager@example.org")
    return folder


def _partitions() -> list[str]:
    with dg.DagsterInstance.get() as instance:
        return list(instance.get_dynamic_partitions(PARTITIONS))


@pytest.mark.usefixtures("home")
def test_cli_releases_run_the_real_jobs_and_refused_versions_leave_nothing(
    data_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = ["--data-dir", str(data_dir)]
    assert main([*cli, "release", "--version", "bad name/../x"]) == 2
    assert "is not a valid name" in capsys.readouterr().err
    with dg.DagsterInstance.get() as instance:
        assert instance.get_runs() == [] and _partitions() == []

    assert main([*cli, "release", "--version", "v1", "--use", "train"]) == 0
    out = capsys.readouterr().out
    assert "changes: the first release" in out and "next version: v2" in out
    with dg.DagsterInstance.get() as instance:
        runs = sorted(instance.get_runs(), key=lambda r: r.job_name)
        assert [r.job_name for r in runs] == ["build_warehouse", "cut_release"]
        for run in runs:
            assert run.tags["born/release_version"] == "v1"
            assert run.tags["born/release_use"] == "train"
            assert run.tags["born/launched_by"] == "release-manager@example.org"
        assert runs[1].tags["dagster/partition"] == "v1"
        for key in ("release", "transparency_table", "similarity_index"):
            record = instance.get_latest_materialization_event(dg.AssetKey(key))
            assert record is not None and record.asset_materialization is not None, key
            assert record.asset_materialization.partition == "v1", key

    def refuse(*_args: object) -> None:
        raise ReleaseRefused("planted refusal")

    with monkeypatch.context() as patched:
        patched.setattr(release_asset, "cut_release", refuse)
        assert main([*cli, "release", "--version", "v2"]) == 1
    assert "planted refusal" in capsys.readouterr().err
    assert _partitions() == ["v1"] and not (data_dir / "releases" / "v2").exists()

    assert main([*cli, "release", "--version", "v2"]) == 0
    assert "changes: identical to v1" in capsys.readouterr().out
    with dg.DagsterInstance.get() as instance:
        record = instance.get_latest_materialization_event(dg.AssetKey("release"))
        assert record is not None and record.asset_materialization is not None
        metadata = record.asset_materialization.metadata
        assert metadata["changes_since_previous"].value == "identical to v1"
        assert metadata["next_version"].value == "v3"
        instance.add_dynamic_partitions(PARTITIONS, ["junk-from-the-ui"])

    assert main([*cli, "partitions", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"junk": ["junk-from-the-ui"], "removed": []}
    assert main([*cli, "partitions", "--remove"]) == 0
    assert sorted(_partitions()) == ["v1", "v2"]
