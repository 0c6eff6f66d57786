"""The commands people type must work as real processes: `dagster asset materialize`, `born`.

These start the real Dagster CLI (about 10 s of imports), so there are few of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg

from born_assets.cli.main import main
from born_assets_tests.conftest import REPO, input_lines
from born_assets_tests.graph import materialize_all

BIN = Path(sys.executable).parent


def test_dagster_cli_materializes_the_graph_into_a_temporary_instance(
    data_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "BORN_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "--select",
            "not group:release",
            "-m",
            "born_assets.definitions",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (data_dir / "warehouse" / "row_fates" / "row_fates.parquet").exists()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].is_success
        record = instance.get_latest_materialization_event(dg.AssetKey("row_fates"))
        assert record is not None


def test_born_summary_prints_lines_per_lane_and_fate(data_dir: Path, capsys) -> None:
    materialize_all(data_dir)
    assert main(["--data-dir", str(data_dir), "summary"]) == 0
    out = capsys.readouterr().out
    assert "mbpp-plus-reference" in out and "quarantined" in out
    total = next(line for line in out.splitlines() if "TOTAL" in line).split()
    assert total[1] == str(input_lines(data_dir))
    assert main(["--data-dir", str(data_dir), "summary", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["release"] is None
    assert sum(s["lines_read"] for s in summary["sources"]) == input_lines(data_dir)


def test_born_manifests_exits_nonzero_naming_the_broken_file(data_dir: Path, capsys) -> None:
    assert main(["--data-dir", str(data_dir), "manifests"]) == 0
    (data_dir / "manifests" / "bad.yaml").write_text("lane_id: [1]\n")
    assert main(["--data-dir", str(data_dir), "manifests"]) == 1
    err = capsys.readouterr().err
    assert "manifests/bad.yaml: " in err
    assert "lane_id: Input should be a valid string" in err


def test_born_summary_before_any_build_says_what_to_do(tmp_path: Path, capsys) -> None:
    assert main(["--data-dir", str(tmp_path), "summary"]) == 2
    assert "make release" in capsys.readouterr().err
