"""Shared fixtures: a private copy of the sample data dir for each test that needs one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO / "data"
INPUT_FOLDERS = ("manifests", "lanes", "tasks", "prompt_templates", "imports", "evals")


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
