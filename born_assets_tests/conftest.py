"""Shared fixtures: a private copy of the sample data dir for each test that needs one."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from born_assets.ingest.readers import iter_records

# Hypothesis keeps no example database and caches outside the repo: tests never write into the
# working tree.
settings.register_profile("born", database=None, deadline=None)
settings.load_profile("born")
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="born-hypothesis-"))

REPO = Path(__file__).resolve().parents[1]
# Tests never record runs in the developer's instance: each uses an ephemeral one or its own home.
os.environ.pop("DAGSTER_HOME", None)
# Sandboxed test results depend only on (code, tests, environment) hashes: every data dir of the
# session shares one cache, so the sample lanes' code runs once per session, not once per test.
os.environ.setdefault("BORN_EXECUTION_CACHE", tempfile.mkdtemp(prefix="born-execution-cache-"))
SAMPLE_DATA = REPO / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
INPUT_FOLDERS = ("manifests", "lanes", "tasks", "prompt_templates", "imports", "traces", "evals")


def copy_sample_data(target: Path) -> Path:
    """Copy the committed sample inputs (not the generated warehouse) into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for name in INPUT_FOLDERS:
        if (SAMPLE_DATA / name).is_dir():
            shutil.copytree(SAMPLE_DATA / name, target / name)
    for path in SAMPLE_DATA.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir in tmp_path holding a copy of the sample data."""
    return copy_sample_data(tmp_path / "data")


def input_lines(data_dir: Path) -> int:
    """Records in every lane and import input file of a data dir (lines, or array elements)."""
    files = [p for folder in ("lanes", "traces") for p in (data_dir / folder).rglob("*")]
    return sum(sum(1 for _ in iter_records(path)) for path in files if path.is_file())
