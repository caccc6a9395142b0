"""Regenerate screenshots/compare-mlflow.svg: the compare of three MLflow model versions
(curves, bars, best marked), with the demo's local runner beside the MLflow one.

Run: .venv/bin/python scripts/screenshot_mlflow.py [--out screenshots]

Starts its own `mlflow server` (the dev extra's mlflow) on 127.0.0.1 with a SQLite backend in a
temporary directory, job execution and telemetry off, one worker; seeds it through REST and
stops it by its process id (its process group) at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from shipdeck.demo import init_demo
from shipdeck.runners.local import open_local_runner
from shipdeck.runners.mlflow.api import MlflowApi
from shipdeck.runners.mlflow.runner import MlflowRunner
from shipdeck.testing.frozen import FrozenTimes, frozen_clock, frozen_now
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.compare import CompareScreen
from shipdeck.workspace import load_workspace

MODEL = "churn-lab"
BASE_MS = 1_736_200_000_000


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "DO_NOT_TRACK": "true",
    }
    mlflow = str(Path(sys.executable).parent / "mlflow")
    command = [
        *(mlflow, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        *("--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}"),
        *("--artifacts-destination", str(root / "artifacts")),
    ]
    log = (root / "server.log").open("ab")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"mlflow server did not start: see {root / 'server.log'}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(15)


def seed(url: str) -> None:
    """Three training runs (auc and loss per epoch, lr), a registered version of each."""
    with httpx.Client(base_url=f"{url}/api/2.0/mlflow/", timeout=30) as client:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = client.post(path, json=body)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data

        experiment = post("experiments/create", {"name": "churn-training"})["experiment_id"]
        post("registered-models/create", {"name": MODEL})
        for index, (lr, ceiling) in enumerate(((0.3, 0.86), (0.1, 0.91), (0.03, 0.88))):
            start = BASE_MS + index * 3_600_000
            info = post(
                "runs/create",
                {
                    "experiment_id": experiment,
                    "run_name": f"train-lr{lr}",
                    "start_time": start,
                    "tags": [{"key": "mlflow.user", "value": "ana"}],
                },
            )["run"]["info"]
            metrics = [
                {"key": key, "value": round(value, 4), "timestamp": start + step, "step": step}
                for step in range(12)
                for key, value in (
                    ("auc", ceiling - (ceiling - 0.6) * 0.7 ** (step * (1 + lr))),
                    ("loss", 0.2 + 0.8 * 0.75 ** (step * (1 + 2 * lr)) + 0.02 * index),
                )
            ]
            params = [{"key": "lr", "value": str(lr)}, {"key": "epochs", "value": "12"}]
            run_id = info["run_id"]
            post("runs/log-batch", {"run_id": run_id, "metrics": metrics, "params": params})
            post("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": start + 9e5})
            source = {"name": MODEL, "source": f"runs:/{run_id}/model", "run_id": run_id}
            post("model-versions/create", source)
        post("registered-models/alias", {"name": MODEL, "alias": "champion", "version": "2"})


async def shoot(demo: Path, url: str, out: Path) -> None:
    local = await open_local_runner(load_workspace(demo), user="op")
    lab = MlflowRunner(MlflowApi(url, name="lab"))
    app = create_app(
        [FrozenTimes(local), lab], clock=frozen_clock(frozen_now(2)), config=TuiConfig()
    )
    try:
        async with app.run_test(size=(100, 28)) as pilot:
            await pilot.pause(0.3)
            screen = CompareScreen(1, [f"{MODEL}@v1", f"{MODEL}@v2", f"{MODEL}@v3"])
            await app.push_screen(screen)
            deadline = time.monotonic() + 30
            while screen.comparison is None or not screen.details:
                if time.monotonic() > deadline:
                    raise TimeoutError("the compare did not load")
                await pilot.pause(0.05)
            await pilot.pause(0.3)
            app.save_screenshot(str(out / "compare-mlflow.svg"))
    finally:
        await local.close()
        await lab.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "screenshots"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        demo = init_demo(Path(tmp) / "demo")
        process, url = start_server(Path(tmp))
        try:
            seed(url)
            asyncio.run(shoot(demo, url, args.out))
        finally:
            stop_server(process)
    print(args.out / "compare-mlflow.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
