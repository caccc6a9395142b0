"""Prefect runner benchmark: what the cockpit asks a Prefect server for, next to the bare REST
calls that fetch the same data, in the same run against the same server.

A private `prefect server start` on 127.0.0.1 (SQLite in a temporary directory, stopped by
its pid at the end) is seeded through its REST API with a flow run of TASKS task runs (a
binary tree of dependencies, all completed) and RUNS flow runs of one deployment. Then:

- graph: `PrefectRunner.run(id)`, the run view's first frame (the flow run, its graph-v2
  with TASKS nodes, its task runs for attempts and reasons) against the bare
  `GET /flow_runs/{id}` + `GET /flow_runs/{id}/graph-v2`;
- runs page: `runs_page(limit=100)`, the Runs view's first page with its count, against the
  bare `POST /flow_runs/filter` (100) + `POST /flow_runs/count`;
- runs all: paging through all RUNS flow runs 100 at a time (`runs(before=...)`) against the
  bare filter paged by offset.

Each is the median of REPEAT rounds; the target is a ratio of at most 1.5.

    python bench/prefect.py [--tasks 200] [--runs 1000] [--repeat 15] [--json]

`--latency LINES` measures instead how long a log record takes from reaching the server
(its `POST /logs/`) to the runner's event feed, for a running flow run being followed: with the
live `/api/logs/out` socket (the server publishes) and with polling only (`live_logs=False`),
each at `--interval` seconds between polls; LINES records 0.25 s apart, median and worst.

Needs the `prefect` package (the dev extra) for the server. Always exits 0: it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from shipdeck.runners.prefect.runner import PrefectRunner


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(root / "home"),
        "PREFECT_API_URL": url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{root / 'prefect.db'}",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED": "true",
        "PREFECT_SERVER_LOGS_STREAM_PUBLISHING_ENABLED": "true",
    }
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or "prefect"
    with (root / "server.log").open("ab") as out:
        server = subprocess.Popen(
            [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop(server)
    raise SystemExit(
        f"the Prefect server did not start: {(root / 'server.log').read_text()[-2000:]}"
    )


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


async def seed(client: httpx.AsyncClient, tasks: int, runs: int) -> tuple[str, str]:
    """(the big flow run's id, the deployment's pipeline name)."""

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        for _ in range(60):  # 503: the server's SQLite was busy, nothing was done
            response = await client.post(path, json=body)
            if response.status_code != 503:
                break
            await asyncio.sleep(0.5)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    flow = await post("flows/", {"name": "bench"})
    deployment = await post("deployments/", {"name": "many", "flow_id": flow["id"]})
    done = {"type": "COMPLETED", "name": "Completed"}
    big = await post(
        "flow_runs/", {"flow_id": flow["id"], "deployment_id": deployment["id"], "state": done}
    )
    ids: list[str] = []
    for i in range(tasks):
        inputs = {"x": [{"input_type": "task_run", "id": ids[(i - 1) // 2]}]} if i else {}
        task = await post(
            "task_runs/",
            {
                "flow_run_id": big["id"],
                "task_key": f"step{i}",
                "dynamic_key": "0",
                "name": f"step{i}-{i:03x}",
                "task_inputs": inputs,
                "state": {"type": "RUNNING", "name": "Running"},
            },
        )
        await post(f"task_runs/{task['id']}/set_state", {"state": done, "force": True})
        ids.append(task["id"])
    semaphore = asyncio.Semaphore(2)  # SQLite: more writers at once only get 503s

    async def one(i: int) -> None:
        async with semaphore:
            await post(
                "flow_runs/",
                {
                    "flow_id": flow["id"],
                    "deployment_id": deployment["id"],
                    "name": f"run-{i:04d}",
                    "state": done if i % 7 else {"type": "FAILED", "name": "Failed"},
                },
            )

    await asyncio.gather(*(one(i) for i in range(runs)))
    return big["id"], "bench/many"


async def median(call: Callable[[], Awaitable[object]], repeat: int) -> float:
    await call()  # warm: connections, caches of names
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def measure(url: str, tasks: int, runs: int, repeat: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"{url}/", timeout=60) as client:
        big, pipeline = await seed(client, tasks, runs)
        runner = PrefectRunner(url, name="bench")
        try:
            detail = await runner.run(big)
            assert len(detail.tasks) == tasks + 1, len(detail.tasks)

            # The bare reference decodes what it fetches, as any client must to show it.
            async def bare_graph() -> None:
                for path in (f"flow_runs/{big}", f"flow_runs/{big}/graph-v2"):
                    response = await client.get(path)
                    response.raise_for_status()
                    response.json()

            async def bare_page() -> None:
                body = {"limit": 100, "sort": "EXPECTED_START_TIME_DESC"}
                for path, sent in (("flow_runs/filter", body), ("flow_runs/count", {})):
                    response = await client.post(path, json=sent)
                    response.raise_for_status()
                    response.json()

            async def bare_all() -> None:
                for offset in range(0, runs + 1, 100):
                    body = {"limit": 100, "offset": offset, "sort": "EXPECTED_START_TIME_DESC"}
                    response = await client.post("flow_runs/filter", json=body)
                    response.raise_for_status()
                    response.json()

            async def all_runs() -> None:
                before = None
                seen = 0
                while True:
                    page = await runner.runs(limit=100, before=before)
                    seen += len(page)
                    if len(page) < 100:
                        break
                    before = page[-1].id
                assert seen == runs + 1, seen

            figures = {
                "graph": (
                    await median(lambda: runner.run(big), repeat),
                    await median(bare_graph, repeat),
                ),
                "runs_page": (
                    await median(lambda: runner.runs_page(limit=100), repeat),
                    await median(bare_page, repeat),
                ),
                "runs_all": (await median(all_runs, repeat), await median(bare_all, repeat)),
            }
        finally:
            await runner.close()
    del pipeline
    return {
        name: {"shipdeck_ms": ours * 1000, "rest_ms": bare * 1000, "ratio": ours / bare}
        for name, (ours, bare) in figures.items()
    }


async def latency(url: str, lines: int, interval: float, live: bool) -> list[float]:
    """Seconds from each record's POST being sent to its LOG event reaching the feed."""
    async with httpx.AsyncClient(base_url=f"{url}/", timeout=30) as client:
        flow = (await client.post("flows/", json={"name": "latency"})).json()
        running = {"type": "RUNNING", "name": "Running"}
        run = await client.post("flow_runs/", json={"flow_id": flow["id"], "state": running})
        run_id = run.json()["id"]
        runner = PrefectRunner(url, name="bench", poll_interval=interval, live_logs=live)
        try:
            after = await runner.last_seq()
            await asyncio.sleep(1.0)  # the socket subscribed (or not): a steady state
            took: list[float] = []
            for i in range(lines):
                record = {
                    "name": "bench",
                    "level": 20,
                    "message": f"line {i}",
                    "timestamp": datetime.now(UTC).isoformat(),
                    "flow_run_id": run_id,
                }
                posted = time.monotonic()  # the server publishes before it answers
                response = await client.post("logs/", json=[record])
                response.raise_for_status()
                while True:
                    page = await runner.wait_events(after, wait=interval + 5)
                    after = page.last_seq
                    texts = [getattr(event.data, "text", None) for event in page.events]
                    if f"line {i}" in texts:
                        break
                took.append(time.monotonic() - posted)
                await asyncio.sleep(0.25)
            return took
        finally:
            await runner.close()


def print_latency(url: str, lines: int, interval: float) -> None:
    for live in (True, False):
        took = asyncio.run(latency(url, lines, interval, live))
        print(
            f"{'websocket' if live else 'polling':10} poll every {interval:.1f} s: median"
            f" {statistics.median(took) * 1000:7.1f} ms  worst {max(took) * 1000:7.1f} ms"
            f"  ({lines} lines)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--latency", type=int, default=0, metavar="LINES")
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipdeck-prefect-bench-") as temp:
        server, url = start_server(Path(temp))
        try:
            if args.latency:
                print_latency(url, args.latency, args.interval)
                return
            result = asyncio.run(measure(url, args.tasks, args.runs, args.repeat))
        finally:
            stop(server)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, row in result.items():
        print(
            f"{name:10} shipdeck {row['shipdeck_ms']:8.1f} ms   bare REST {row['rest_ms']:8.1f} ms"
            f"   ratio {row['ratio']:.2f}"
        )


if __name__ == "__main__":
    main()
