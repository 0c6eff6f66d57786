"""An interpreter under /tmp must still run its rows' code inside the sandbox.

A checkout cloned under /tmp keeps its virtualenv there, and the sandbox mounts an empty /tmp of
its own: without binding the interpreter back, every row ended `error` ("bwrap: execvp
.../python: No such file or directory") and a whole release was gated out as tests_failed. Here a
real virtualenv is made under /tmp and runs a passing and a failing row through the real sandbox.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys, tempfile
from pathlib import Path
from born_assets.execution.isolation import claimed_users, is_root
from born_assets.specs.execution_policy import IsolationChoice
from born_assets_tests.execution.test_sandbox_attacks import run, runner

tmp = Path(tempfile.mkdtemp())
(tmp / "data").mkdir()
with claimed_users(1) as users:
    each = runner(tmp, tmp / "data", IsolationChoice.AUTO, users[0] if is_root() else None)
    results = [run(each, "def f():\\n    return 1\\n", [f"assert f() == {n}"]) for n in (1, 2)]
print(json.dumps([sys.prefix] + [[r["execution_status"], r["isolation"]] for r in results]))
"""


@pytest.fixture(scope="module")
def python_under_tmp() -> Iterator[Path]:
    """A virtualenv under /tmp that sees this project and its libraries (a .pth file)."""
    root = Path(tempfile.mkdtemp(prefix="born-venv-", dir="/tmp"))
    root.chmod(0o755)  # as a clone is: mkdtemp's 0700 would be bound back as a closed folder
    try:
        venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
        where = "import sysconfig; print(sysconfig.get_path('purelib'))"
        purelib = subprocess.run(
            [str(root / "bin" / "python"), "-c", where], check=True, capture_output=True, text=True
        ).stdout.strip()
        paths = [str(REPO), *(p for p in sys.path if p.endswith("-packages"))]
        (Path(purelib) / "born_project.pth").write_text("\n".join(paths) + "\n")
        yield root / "bin" / "python"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_virtualenv_under_tmp_runs_rows_in_the_sandbox(python_under_tmp: Path) -> None:
    done = subprocess.run(
        [str(python_under_tmp), "-c", SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    prefix, passing, failing = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(prefix).is_relative_to("/tmp")
    assert passing[0] == "passed", passing
    assert failing[0] == "failed", failing
    assert passing[1] == failing[1]
