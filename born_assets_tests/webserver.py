"""Start and stop the real `dagster-webserver` for tests, and talk to it over GraphQL.

The server runs as the user runs it (`-w workspace.yaml`, the repo's `dagster.yaml` as the
instance config), but with its own `DAGSTER_HOME` and `BORN_DATA_DIR` under a temporary folder,
in its own process group, so that stopping it also stops the code server and the runs it spawned.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LOCATION = "born_assets"
REPOSITORY = "__repository__"
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
TERMINAL_RUN_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

_WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


_LAUNCH_RUN = """
mutation LaunchRun($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
  }
}
"""

_RUN_STATUS = """
query RunStatus($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { status } }
}
"""

_RUNS = """
query Runs($filter: RunsFilter) {
  runsOrError(filter: $filter) {
    __typename
    ... on Runs { results { runId jobName status tags { key value } } }
  }
}
"""

_ADD_PARTITION = """
mutation AddPartition($repo: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $repo, partitionsDefName: $name, partitionKey: $key) {
    __typename
    ... on Error { message }
  }
}
"""


class WebserverError(RuntimeError):
    """The webserver did not start, or answered a GraphQL request with an error."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def instance_home(home: Path) -> Path:
    """A fresh `DAGSTER_HOME` holding a copy of the repo's `dagster.yaml`."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    return home


def dagster_env(home: Path, data_dir: Path) -> dict[str, str]:
    """The environment of a Dagster process on this instance and data dir."""
    return {**os.environ, "DAGSTER_HOME": str(home), "BORN_DATA_DIR": str(data_dir)}


@dataclass(frozen=True)
class Webserver:
    """A running webserver: its base URL, its process and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, for failure messages."""
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def get(self, path: str, timeout_s: float = 10.0) -> bytes:
        """GET a path of the server; raises on an HTTP error."""
        with urllib.request.urlopen(self.url + path, timeout=timeout_s) as response:
            return bytes(response.read())

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a GraphQL query or mutation; raises `WebserverError` on GraphQL errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode("utf-8")
        request = urllib.request.Request(
            self.url + "/graphql",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise WebserverError(f"GraphQL errors: {payload['errors']}")
        return dict(payload["data"])

    def launch_run(self, job_name: str, tags: dict[str, str] | None = None) -> str:
        """Launch a job of the code location as the UI's Launchpad does; returns the run id."""
        params = {
            "selector": {
                "repositoryLocationName": LOCATION,
                "repositoryName": REPOSITORY,
                "jobName": job_name,
            },
            "executionMetadata": {
                "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]
            },
        }
        result = self.graphql(_LAUNCH_RUN, {"params": params})["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            raise WebserverError(f"launching {job_name}: {result}")
        return str(result["run"]["runId"])

    def wait_for_run(self, run_id: str, timeout_s: float = 300.0) -> str:
        """Poll a run until it ends; its final status (SUCCESS, FAILURE or CANCELED)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            run = self.graphql(_RUN_STATUS, {"runId": run_id})["runOrError"]
            if run.get("status") in TERMINAL_RUN_STATUSES:
                return str(run["status"])
            time.sleep(0.5)
        raise WebserverError(f"run {run_id} still {run.get('status')} after {timeout_s:.0f}s")

    def runs(self, tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The instance's runs carrying every tag of `tags`, newest first."""
        selected = [{"key": k, "value": v} for k, v in (tags or {}).items()]
        found = self.graphql(_RUNS, {"filter": {"tags": selected}})["runsOrError"]
        if found["__typename"] != "Runs":
            raise WebserverError(f"listing runs: {found}")
        return list(found["results"])

    def add_partition(self, partitions_def: str, key: str) -> None:
        """Add a key to a dynamic partitions definition, as the UI's "Add partition" does."""
        repo = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
        variables = {"repo": repo, "name": partitions_def, "key": key}
        result = self.graphql(_ADD_PARTITION, variables)["addDynamicPartition"]
        if result["__typename"] != "AddDynamicPartitionSuccess":
            raise WebserverError(f"adding partition {key}: {result}")

    def wait_until_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> float:
        """Wait until `/server_info` answers and the code location is loaded; seconds waited."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self.process.poll() is not None:
                raise WebserverError(
                    f"webserver exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self._location_loaded():
                return time.monotonic() - start
            time.sleep(0.25)
        raise WebserverError(f"webserver not ready after {timeout_s:.0f}s:\n{self.log_tail()}")

    def _location_loaded(self) -> bool:
        try:
            self.get("/server_info", timeout_s=2.0)
            data = self.graphql(_WORKSPACE_QUERY)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
        entries = data["workspaceOrError"].get("locationEntries", [])
        entry = next((e for e in entries if e["name"] == LOCATION), None)
        if entry is None or entry["loadStatus"] != "LOADED":
            return False
        location = entry["locationOrLoadError"]
        if location["__typename"] == "PythonError":
            raise WebserverError(f"code location failed to load: {location['message']}")
        return True


def stop(process: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Stop a process started in its own session, and everything in its process group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout_s)
    with contextlib.suppress(ProcessLookupError):  # children of a process that exited itself
        os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def running_webserver(home: Path, data_dir: Path, *, daemon: bool = False) -> Iterator[Webserver]:
    """Run the webserver on a free port with the repo's workspace; stop it when the block ends.

    Without `daemon` this is `dagster-webserver -w workspace.yaml`: enough to browse. With it,
    `dagster dev -w workspace.yaml` (what `make ui` runs), whose daemon takes runs off the queue:
    the default instance queues every run launched from the UI (`QueuedRunCoordinator`), and
    without a daemon they stay queued. `home` is the `DAGSTER_HOME` (see `instance_home`); the
    working directory and the output file are there too: nothing is written into the working tree.
    """
    shutil.copy(REPO / "workspace.yaml", home / "workspace.yaml")
    port = free_port()
    log_path = home / "webserver.log"
    bin_dir = Path(sys.executable).parent
    program = [str(bin_dir / "dagster"), "dev"] if daemon else [str(bin_dir / "dagster-webserver")]
    command = [*program, "-h", "127.0.0.1", "-p", str(port), "-w", str(home / "workspace.yaml")]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=home,
            env=dagster_env(home, data_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Webserver(f"http://127.0.0.1:{port}", process, log_path)
    try:
        server.wait_until_ready()
        yield server
    finally:
        stop(process)
