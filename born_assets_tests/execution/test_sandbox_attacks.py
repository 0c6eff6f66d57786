"""Hostile code must end with a recorded status while the pipeline and the host stay unharmed.

The `executed` stage runs teachers' code: code that reads keys from the environment, writes or
reads outside its folder, opens sockets, forks without end, eats memory, sleeps forever, kills
its parent, floods stdout or exits mid-test. Each attack here runs through the real sandbox
(bubblewrap where it works, as the policy's `auto` picks) with small limits, so the whole module
takes seconds.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from born_assets.execution.environment import Environment
from born_assets.execution.harnesses import Job, build_job
from born_assets.execution.isolation import claimed_users, is_root
from born_assets.execution.rows import Plan, Runner, driver_source
from born_assets.execution.sandbox import Sandbox
from born_assets.schemas.execution import Isolation
from born_assets.specs.execution_policy import ExecutionLimits, IsolationChoice
from born_assets.specs.task_tests import Harness
from born_assets.store.result_cache import ResultCache
from born_assets_tests.conftest import SAMPLE_DATA

LIMITS = ExecutionLimits(
    wall_seconds=4, cpu_seconds=4, memory_mb=512, file_size_mb=4, processes=32, tmp_mb=16
)
SECRET = "sk-born-attack-test-0123456789"


def runner(tmp_path: Path, data_root: Path, choice: IsolationChoice, user: int | None) -> Runner:
    sandbox = Sandbox.create(choice, LIMITS, data_root, () if user is None else (user,))
    environment = Environment.current(sandbox.isolation, LIMITS)
    return Runner(sandbox, environment, ResultCache(tmp_path / "cache"), driver_source())


def run(runner: Runner, code: str, tests: list[str]) -> dict[str, object]:
    """Run `code` against MBPP-style asserts; the row's result columns."""
    job = build_job(Harness.MBPP, code, {"test_list": tests})
    assert isinstance(job, Job)
    plan = Plan(job, Harness.MBPP, "0" * 64, "1" * 64, ())
    return runner._run(plan, slot=0)[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """A data dir with a policy file and a sentinel folder; keys in our environment."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "policy.yaml").write_text("secret: policy\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("unchanged\n")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("BORN_TEACHER_API_KEY", SECRET)
    before = snapshot(tmp_path)
    yield data, outside
    assert snapshot(tmp_path) == before, "the run changed files outside its own folder"


@pytest.fixture(scope="module")
def user() -> Iterator[int | None]:
    """A user id of our own for the runs (as root), claimed like the stage claims them."""
    with claimed_users(1) as users:
        yield users[0] if is_root() else None


@pytest.fixture(scope="module")
def bwrap_runner(tmp_path_factory: pytest.TempPathFactory, user: int | None) -> Runner:
    base = tmp_path_factory.mktemp("attacks")
    made = runner(base, SAMPLE_DATA, IsolationChoice.AUTO, user)
    if made.sandbox.isolation is not Isolation.BWRAP:
        pytest.skip("bubblewrap does not work on this machine (the stage records `limits`)")
    return made


def test_keys_in_the_environment_are_not_visible(
    bwrap_runner: Runner, host: tuple[Path, Path]
) -> None:
    code = (
        "import os\n"
        "SEEN = {k: v for k, v in os.environ.items() if 'KEY' in k or k.startswith('BORN')}\n"
        "try:\n"
        "    PROC = open('/proc/1/environ', 'rb').read()\n"
        "except OSError:\n"
        "    PROC = b''\n"
        "print(SEEN, PROC)\n"
    )
    result = run(bwrap_runner, code, ["assert SEEN == {}", f"assert b'{SECRET}' not in PROC"])
    assert result["execution_status"] == "passed"
    assert SECRET not in str(result)


def test_writing_outside_the_working_folder_is_refused(
    bwrap_runner: Runner, host: tuple[Path, Path]
) -> None:
    data, outside = host
    code = (
        "import pathlib\n"
        f"targets = ['{outside}/keep.txt', '{outside}/new.txt', '{data}/policy.yaml']\n"
        "targets.append('/etc/born')\n"
        "DONE = []\n"
        "for t in targets:\n"
        "    try:\n"
        "        pathlib.Path(t).write_text('pwned')\n"
        "        DONE.append(t)\n"
        "    except OSError:\n"
        "        pass\n"
        "pathlib.Path('mine.txt').write_text('the working folder is writable')\n"
    )
    result = run(bwrap_runner, code, ["assert DONE == []"])
    assert result["execution_status"] == "passed"  # every write failed, the fixture checks the host


def test_the_data_dir_is_hidden(bwrap_runner: Runner, host: tuple[Path, Path]) -> None:
    data = SAMPLE_DATA  # outside /tmp (which the sandbox replaces anyway)
    code = f"import os\nLISTED = os.listdir('{data}')\n"
    result = run(bwrap_runner, code, ["assert LISTED == []", f"open('{data}/policy.yaml')"])
    assert result["execution_status"] == "failed"
    assert result["tests_passed"] == 1 and result["tests_total"] == 2
    assert "FileNotFoundError" in str(result["execution_detail"])


def test_no_network(bwrap_runner: Runner, host: tuple[Path, Path]) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def _accept() -> None:
        with contextlib.suppress(OSError):
            accepted.append(server.accept())

    listener = threading.Thread(target=_accept)
    listener.start()
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
    result = run(bwrap_runner, code, ["assert True"])
    listener.join()
    server.close()
    assert accepted == []
    assert result["execution_status"] == "error"
    assert result["execution_reason"] == "setup_failed"
    assert "Connection" in str(result["execution_detail"]) or "Network" in str(
        result["execution_detail"]
    )


def test_a_fork_bomb_is_capped_and_killed(
    bwrap_runner: Runner, host: tuple[Path, Path], user: int | None
) -> None:
    code = (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    result = run(bwrap_runner, code, ["assert True"])
    assert result["execution_status"] in {"timeout", "error"}
    if user is not None:  # as root: no process of the slot's user survives the run
        left = subprocess.run(["pgrep", "-u", str(user)], capture_output=True, check=False)
        assert left.stdout == b""
    assert subprocess.run(["true"], check=False).returncode == 0  # we can still fork


def test_allocating_10_gb_stops_at_the_memory_limit(
    bwrap_runner: Runner, host: tuple[Path, Path]
) -> None:
    result = run(bwrap_runner, "HOG = bytearray(10 * 1024**3)\n", ["assert len(HOG) > 0"])
    assert (result["execution_status"], result["execution_reason"]) == ("error", "memory_limit")


def test_sleeping_forever_times_out(bwrap_runner: Runner, host: tuple[Path, Path]) -> None:
    result = run(bwrap_runner, "import time\ntime.sleep(10**6)\n", ["assert True"])
    assert (result["execution_status"], result["execution_reason"]) == ("timeout", "wall_time")
    assert float(result["duration_s"]) < LIMITS.wall_seconds + 3  # type: ignore[arg-type]


def test_killing_its_parent_leaves_the_pipeline_alive(
    bwrap_runner: Runner, host: tuple[Path, Path]
) -> None:
    code = (
        "import os, signal\n"
        "for target in (os.getppid(), 1, -1):\n"
        "    try:\n"
        "        os.kill(target, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    result = run(bwrap_runner, code, ["assert True"])
    assert result["execution_status"] in {"passed", "error"}
    os.kill(os.getpid(), 0)  # this process (the pipeline) is alive and well


def test_printing_a_gigabyte_stops_at_the_file_size_limit(
    bwrap_runner: Runner, host: tuple[Path, Path]
) -> None:
    code = "import sys\nfor _ in range(1024 * 1024):\n    sys.stdout.write('x' * 1024)\n"
    result = run(bwrap_runner, code, ["assert True"])
    assert (result["execution_status"], result["execution_reason"]) == ("error", "output_limit")


def test_exiting_mid_test_is_an_error_not_a_pass(
    bwrap_runner: Runner, host: tuple[Path, Path]
) -> None:
    code = "def f():\n    return 1\n"
    tests = ["assert f() == 1", "import os; os._exit(0)", "assert f() == 2"]
    result = run(bwrap_runner, code, tests)
    assert (result["execution_status"], result["execution_reason"]) == ("error", "exited_early")
    assert result["tests_passed"] == 1 and result["exit_code"] == 0


def test_limits_alone_still_contain_time_memory_and_keys_and_say_so(
    tmp_path: Path, host: tuple[Path, Path], user: int | None
) -> None:
    limited = runner(tmp_path / "limits", tmp_path / "data", IsolationChoice.LIMITS, user)
    keys = run(
        limited, "import os\nSEEN = [k for k in os.environ if 'KEY' in k]\n", ["assert not SEEN"]
    )
    sleep = run(limited, "import time\ntime.sleep(10**6)\n", ["assert True"])
    memory = run(limited, "HOG = bytearray(10 * 1024**3)\n", ["assert HOG"])
    assert keys["execution_status"] == "passed" and keys["isolation"] == "limits"
    assert sleep["execution_status"] == "timeout" and sleep["isolation"] == "limits"
    assert memory["execution_reason"] == "memory_limit"
