"""A real Prefect server and its served flows, started once per test session on 127.0.0.1.

`prefect server start` (analytics and UI off, SQLite, log streaming on and published) in its
own process group, and `flow.serve()` of tests/prefect/flows/etl.py and of the contract suite's
flows (flows/contract.py) as its executors; all stopped by their own process ids at the end. The
prefect package is a test dependency (pyproject's dev extra), never a runtime one of shipdeck.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

START_TIMEOUT = 180.0
"""Seconds for the server and the served flow to be ready (~10 s idle, far more under load)."""
FLOWS = Path(__file__).parent / "flows"
IDLE_SERVICES = (
    "SCHEDULER",
    "LATE_RUNS",
    "PAUSE_EXPIRATIONS",
    "FOREMAN",
    "REPOSSESSOR",
    "TRIGGERS",
    "CLEANUP_RECONCILER",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prefect_executable() -> str:
    found = shutil.which("prefect", path=str(Path(sys.executable).parent)) or shutil.which(
        "prefect"
    )
    if found is None:
        pytest.fail("the prefect test dependency is missing: `make test` installs it ('.[dev]')")
    return found


def stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


BUSY_RETRIES = 20
"""How often a test's own API call is sent while the server answers 503 (busy)."""


@dataclass
class PrefectServer:
    url: str
    """The API root, http://127.0.0.1:PORT/api."""
    root: Path
    env: dict[str, str]
    server: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    """The `serve()` processes executing its flows."""

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One API call of the test's own (seeding, checking). Prefect answers 503 when its
        SQLite database is busy, having done nothing: asked again, as Prefect's own client
        and shipdeck's adapter do, so a loaded machine does not fail the test's set-up."""
        for _ in range(BUSY_RETRIES):
            response = httpx.request(method, f"{self.url}/{path}", json=body, timeout=30.0)
            if response.status_code != 503:
                break
            time.sleep(0.5)
        response.raise_for_status()
        return response.json()

    def deployment_id(self, name: str = "etl/nightly") -> str:
        return str(self.call("GET", f"deployments/name/{name}")["id"])

    def wait_run(self, run_id: str, *, final: bool = True, timeout: float = 120.0) -> str:
        """The run's state type once it is final (or, with final=False, running)."""
        wanted = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"} if final else {"RUNNING"}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = str(self.call("GET", f"flow_runs/{run_id}").get("state_type"))
            if state in wanted:
                return state
            time.sleep(0.3)
        raise AssertionError(f"flow run {run_id} never reached {sorted(wanted)}")

    def stop(self) -> None:
        for worker in self.workers:
            stop_group(worker)
        stop_group(self.server)


def _wait(url: str, ready: Any, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited: {log.read_text()[-2000:]}")
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url}: not ready in {START_TIMEOUT} s: {log.read_text()[-2000:]}")


def start_prefect(
    root: Path, port: int | None = None, extra_env: dict[str, str] | None = None
) -> PrefectServer:
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(root / "home"),
        "PREFECT_API_URL": url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED": "true",
        "PREFECT_SERVER_LOGS_STREAM_PUBLISHING_ENABLED": "true",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{root / 'prefect.db'}",
        "PREFECT_LOGGING_TO_API_ENABLED": "true",
        "DO_NOT_TRACK": "1",
        # The served flow looks for new runs every second (default 10): tests wait less.
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        # Background loops the tests never need (deployment schedules, late or paused runs,
        # worker health, automations, clean-ups): idle, they cost a share of a core for the
        # whole session. Events and task runs are still recorded; cancellation still works.
        **{f"PREFECT_SERVER_SERVICES_{name}_ENABLED": "false" for name in IDLE_SERVICES},
        **(extra_env or {}),
    }
    log = root / "server.log"
    with log.open("ab") as out:
        server = subprocess.Popen(
            [prefect_executable(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
            start_new_session=True,
        )
    started = PrefectServer(url, root, env, server)
    try:
        _wait(url, lambda: httpx.get(f"{url}/health", timeout=2.0).status_code == 200, server, log)
    except BaseException:
        started.stop()
        raise
    return started


def serve_flow(
    server: PrefectServer, script: str = "etl.py", deployment: str = "etl/nightly"
) -> None:
    """Start a flows file's `serve()` and wait until `deployment` is registered."""
    log = server.root / f"serve-{Path(script).stem}.log"
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, str(FLOWS / script)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=server.env,
            cwd=server.root,
            start_new_session=True,
        )
    server.workers.append(worker)

    def registered() -> bool:
        return httpx.get(f"{server.url}/deployments/name/{deployment}", timeout=2.0).is_success

    _wait(server.url, registered, worker, log)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    server = start_prefect(tmp_path_factory.mktemp("prefect"))
    try:
        serve_flow(server, deployment="nested/nightly")
        server.deployment_id("etl/nightly")
        # The contract suite's pipelines as flows (tests/prefect/test_contract.py).
        serve_flow(server, "contract.py", "chatty/contract")
        for name in ("build/contract", "slow/contract"):
            server.deployment_id(name)
        yield server
    finally:
        server.stop()
