"""A real MLflow tracking server, started once per test session on 127.0.0.1.

`mlflow server` with a SQLite backend and lean settings (no job execution, no telemetry, one
worker), in its own process group, stopped by its own process id at the end. The mlflow package
is a test dependency (pyproject's dev extra), never a runtime one of shipdeck. Tests seed it
through its REST API, as any client would.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shipdeck.model import RunStatus

START_TIMEOUT = 120.0
"""Seconds for the server to answer: ~6 s on an idle machine, far more under a loaded CI."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mlflow_executable() -> str:
    found = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or shutil.which("mlflow")
    if found is None:
        pytest.fail("the mlflow test dependency is missing: `make test` installs it ('.[dev]')")
    return found


@dataclass
class MlflowServer:
    url: str
    process: subprocess.Popen[bytes]
    root: Path
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api/2.0/mlflow/", timeout=30.0)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.client() as client:
            response = client.post(path, json=body)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_mlflow(
    root: Path,
    port: int | None = None,
    *,
    extra: tuple[str, ...] = (),
    environ: dict[str, str] | None = None,
) -> MlflowServer:
    """`extra`: more `mlflow server` arguments (`--app-name basic-auth`), `environ` more
    variables for it."""
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        **(environ or {}),
    }
    log = root / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                mlflow_executable(),
                "server",
                "--backend-store-uri",
                f"sqlite:///{root / 'mlflow.db'}",
                "--artifacts-destination",
                str(root / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
            start_new_session=True,
        )
    server = MlflowServer(f"http://127.0.0.1:{port}", process, root, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.stop()
    tail = log.read_text()[-2000:]
    raise RuntimeError(f"mlflow server did not answer in {START_TIMEOUT} s: {tail}")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = start_mlflow(tmp_path_factory.mktemp("mlflow"))
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Seeded:
    experiment_id: str
    experiment: str
    run_ids: list[str]
    model: str


def seed(server: MlflowServer, prefix: str, runs: int = 3, steps: int = 5) -> Seeded:
    """An experiment of `runs` runs (params, step-wise auc and loss), a child run under the
    first, and a registered model with a version per run and the alias `champion` on v1."""
    experiment = f"{prefix}-churn"
    experiment_id = server.post("experiments/create", {"name": experiment})["experiment_id"]
    run_ids: list[str] = []
    base = 1_700_000_000_000
    for index in range(runs):
        created = server.post(
            "runs/create",
            {
                "experiment_id": experiment_id,
                "run_name": f"train-{index}",
                "start_time": base + index * 60_000,
                "tags": [{"key": "mlflow.user", "value": "ana"}],
            },
        )
        run_id = created["run"]["info"]["run_id"]
        metrics = [
            {"key": key, "value": value, "timestamp": base + step, "step": step}
            for step in range(steps)
            for key, value in (
                ("auc", 0.70 + 0.02 * index + 0.01 * step),
                ("loss", 1.0 - 0.1 * index - 0.05 * step),
            )
        ]
        params = [{"key": "lr", "value": str(0.1 / (index + 1))}, {"key": "epochs", "value": "5"}]
        server.post("runs/log-batch", {"run_id": run_id, "metrics": metrics, "params": params})
        server.post(
            "runs/update",
            {"run_id": run_id, "status": "FINISHED", "end_time": base + index * 60_000 + 30_000},
        )
        run_ids.append(run_id)
    child = server.post(
        "runs/create",
        {
            "experiment_id": experiment_id,
            "run_name": "fold-0",
            "start_time": base + 1,
            "tags": [{"key": "mlflow.parentRunId", "value": run_ids[0]}],
        },
    )
    run_ids.append(child["run"]["info"]["run_id"])
    model = f"{prefix}-churn-model"
    server.post("registered-models/create", {"name": model})
    for run_id in run_ids[:runs]:
        server.post(
            "model-versions/create",
            {"name": model, "source": f"runs:/{run_id}/model", "run_id": run_id},
        )
    server.post("registered-models/alias", {"name": model, "alias": "champion", "version": "1"})
    return Seeded(experiment_id, experiment, run_ids, model)


RECORDED = {
    RunStatus.SUCCEEDED: "FINISHED",
    RunStatus.FAILED: "FAILED",
    RunStatus.CANCELLED: "KILLED",
}
"""The status a finished MLflow run is written with, for shipdeck's."""


@dataclass
class RunWriter:
    """Finished runs written through REST as a training script's mlflow client would: the
    experiment named after the pipeline (created when missing), the params, each metric's
    values at steps 0, 1, ... and the final status. Runs start 1 ms after the previous one at
    least, so that "newest first" is one order whatever the clock's resolution."""

    server: MlflowServer
    last_start: int = 0

    def experiment_id(self, client: httpx.Client, name: str) -> str:
        found = client.get("experiments/get-by-name", params={"experiment_name": name})
        if found.status_code == httpx.codes.NOT_FOUND:
            created = client.post("experiments/create", json={"name": name})
            created.raise_for_status()
            return str(created.json()["experiment_id"])
        found.raise_for_status()
        return str(found.json()["experiment"]["experiment_id"])

    def write(
        self,
        pipeline: str,
        params: dict[str, str],
        *,
        status: RunStatus = RunStatus.SUCCEEDED,
        metrics: dict[str, list[float]] | None = None,
    ) -> str:
        self.last_start = max(int(time.time() * 1000), self.last_start + 1)
        start = self.last_start
        with self.server.client() as client:
            body = {"experiment_id": self.experiment_id(client, pipeline), "start_time": start}
            created = client.post("runs/create", json=body)
            created.raise_for_status()
            run_id = str(created.json()["run"]["info"]["run_id"])
            values = [
                {"key": key, "value": value, "timestamp": start, "step": step}
                for key, steps in (metrics or {}).items()
                for step, value in enumerate(steps)
            ]
            logged = {
                "run_id": run_id,
                "params": [{"key": k, "value": v} for k, v in params.items()],
                "metrics": values,
            }
            client.post("runs/log-batch", json=logged).raise_for_status()
            ended = {"run_id": run_id, "status": RECORDED[status], "end_time": start + 1}
            client.post("runs/update", json=ended).raise_for_status()
        return run_id
