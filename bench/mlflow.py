"""The MLflow runner against a real MLflow server holding 1,000 runs x 20 metrics x 10 steps and
a model with 200 versions: the Models view's first frame and a 10-run compare with curves
drawn, each next to the same REST queries made with a bare httpx client in the same run.

The TUI's figures start when the view is pushed, once the app's own start-up loading is over
(no request in flight for 0.5 s), and end when the frame with the data is painted; the app
idle after it (what it loads after its first frame included) is reported beside.

Run: .venv/bin/python bench/mlflow.py [--quick] [--json] [--repeat N]

Needs the dev extra (the mlflow package, for the server only). Target: each figure at most
1.5x its bare-REST reference. Figures in docs/performance.md ("MLflow runner").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.tui_deploy import host_screen, painted
from tests.mlflow.conftest import MlflowServer, start_mlflow

MODEL = "bench-churn"
SETTLED = 0.5
"""Seconds without a request in flight after which the app's start-up loading is over."""
METRICS = [f"m{i:02d}" for i in range(18)] + ["auc", "loss"]


def fill(server: MlflowServer, runs: int, steps: int, versions: int) -> list[str]:
    """Runs of one experiment with every metric at every step, and a model whose versions come
    from the newest runs. Returns the run ids, newest first."""
    ids: list[str] = []
    with httpx.Client(base_url=f"{server.url}/api/2.0/mlflow/", timeout=60) as client:

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = client.post(path, json=body)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data

        experiment = post("experiments/create", {"name": "bench"})["experiment_id"]
        base = 1_700_000_000_000
        for index in range(runs):
            run_id = post(
                "runs/create",
                {"experiment_id": experiment, "run_name": f"r{index}", "start_time": base + index},
            )["run"]["info"]["run_id"]
            values = [
                {
                    "key": key,
                    "value": (index % 97) / 97 + step / (steps * 10) + k / 1000,
                    "timestamp": base + step,
                    "step": step,
                }
                for k, key in enumerate(METRICS)
                for step in range(steps)
            ]
            params = [{"key": "lr", "value": str(0.001 * (index % 10 + 1))}]
            post("runs/log-batch", {"run_id": run_id, "metrics": values, "params": params})
            post("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": base + index})
            ids.append(run_id)
        post("registered-models/create", {"name": MODEL})
        newest = list(reversed(ids))
        for run_id in reversed(newest[:versions]):
            post(
                "model-versions/create",
                {"name": MODEL, "source": f"runs:/{run_id}/model", "run_id": run_id},
            )
        post("registered-models/alias", {"name": MODEL, "alias": "champion", "version": "1"})
    return list(reversed(ids))


async def raw_models(url: str) -> tuple[float, int]:
    """The Models view's REST queries with bare httpx, JSON decoded and nothing else: the
    models, each model with its aliases, its versions by pages of 100, their source runs."""
    counted = Counted()
    async with httpx.AsyncClient(
        base_url=f"{url}/api/2.0/mlflow/", timeout=60, transport=counted
    ) as client:
        t0 = time.perf_counter()
        models = (await client.get("registered-models/search", params={"max_results": 100})).json()[
            "registered_models"
        ]
        experiments = (await client.post("experiments/search", json={"max_results": 100})).json()[
            "experiments"
        ]
        for model in models:
            await client.get("registered-models/get", params={"name": model["name"]})
            versions: list[dict[str, Any]] = []
            token = None
            while True:
                params: dict[str, Any] = {
                    "filter": f"name='{model['name']}'",
                    "max_results": 100,
                    "order_by": ["version_number DESC"],
                }
                if token:
                    params["page_token"] = token
                page = (await client.get("model-versions/search", params=params)).json()
                versions.extend(page.get("model_versions", []))
                token = page.get("next_page_token")
                if not token:
                    break
            run_ids = sorted({v["run_id"] for v in versions})
            for start in range(0, len(run_ids), 100):
                chunk = ", ".join(f"'{i}'" for i in run_ids[start : start + 100])
                (
                    await client.post(
                        "runs/search",
                        json={
                            "experiment_ids": [e["experiment_id"] for e in experiments],
                            "filter": f"attributes.run_id IN ({chunk})",
                            "max_results": 100,
                        },
                    )
                ).json()
        return time.perf_counter() - t0, counted.made


async def raw_compare(url: str, run_ids: list[str]) -> tuple[float, int]:
    """A 10-run compare's REST queries with bare httpx: each run, then every metric's history
    for all of them (the bulk-interval endpoint, one request per metric)."""
    counted = Counted()
    async with httpx.AsyncClient(
        base_url=f"{url}/api/2.0/mlflow/", timeout=60, transport=counted
    ) as client:
        t0 = time.perf_counter()
        runs = await asyncio.gather(
            *(client.get("runs/get", params={"run_id": run_id}) for run_id in run_ids)
        )
        keys = sorted({m["key"] for r in runs for m in r.json()["run"]["data"]["metrics"]})
        await asyncio.gather(
            *(
                client.get(
                    "metrics/get-history-bulk-interval",
                    params=[("run_ids", i) for i in run_ids]
                    + [("metric_key", key), ("max_results", 320)],
                )
                for key in keys
            )
        )
        return time.perf_counter() - t0, counted.made


class Counted(httpx.AsyncBaseTransport):
    """httpx's own transport, counting the requests made and those in flight: what the TUI
    asks MLflow for, and when its start-up loading is over."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.made = 0
        self.in_flight = 0
        self.quiet_since = time.perf_counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.made += 1
        self.in_flight += 1
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1
            self.quiet_since = time.perf_counter()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def settled(self, pilot: Any) -> None:
        """Until no request has been in flight for SETTLED seconds."""
        while self.in_flight or time.perf_counter() - self.quiet_since < SETTLED:
            await pilot.pause(0.05)


async def first_frame(
    app: Any, pilot: Any, show: Callable[[], Awaitable[object]], ready: Callable[[], object]
) -> dict[str, float]:
    """bench.tui_deploy's timings (`load_s` until `ready`, `painted_s` until the next frame,
    `first_frame_s` until the app is idle), with `ready` checked every 2 ms by a bare sleep:
    the Pilot's pause that one uses between checks flushes the screen and walks every widget
    each time, CPU that MLflow's server, on the same cores, would otherwise get."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    await show()
    while not ready():  # noqa: ASYNC110 (the app under test offers no event to wait on)
        await asyncio.sleep(0.002)
    t1 = time.perf_counter()
    await painted(app)
    timings = {"painted_s": time.perf_counter() - t0, "painted_cpu_s": time.process_time() - c0}
    await pilot.pause()
    timings["first_frame_s"] = time.perf_counter() - t0
    timings["load_s"] = t1 - t0
    return timings


def open_runner(url: str, transport: httpx.AsyncBaseTransport | None = None) -> Any:
    from shipdeck.runners.mlflow.api import MlflowApi
    from shipdeck.runners.mlflow.runner import MlflowRunner

    return MlflowRunner(MlflowApi(url, name="lab", transport=transport))


async def runner_models(url: str) -> float:
    """What the Models view asks the runner for: the models, then each model's versions."""
    runner = open_runner(url)
    try:
        t0 = time.perf_counter()
        models = await runner.models()
        await asyncio.gather(*(runner.model_versions(m.name) for m in models))
        return time.perf_counter() - t0
    finally:
        await runner.close()


async def runner_compare(url: str, run_ids: list[str]) -> float:
    """What the compare screen asks the runner for: the comparison, then each run's detail
    (with its metric histories, for the curves)."""
    runner = open_runner(url)
    try:
        t0 = time.perf_counter()
        comparison = await runner.compare(list(run_ids))
        await asyncio.gather(*(runner.run(s.run_id) for s in comparison.subjects))
        return time.perf_counter() - t0
    finally:
        await runner.close()


def bench_runner(url: str, run_ids: list[str]) -> dict[str, float]:
    """The runner's answers alone (no TUI), each next to its bare-REST reference, alternated."""
    return {
        "models_s": asyncio.run(runner_models(url)),
        "models_raw_s": asyncio.run(raw_models(url))[0],
        "compare_s": asyncio.run(runner_compare(url, run_ids)),
        "compare_raw_s": asyncio.run(raw_compare(url, run_ids))[0],
    }


def bench_models(url: str) -> dict[str, float]:
    from shipdeck.tui import create_app
    from shipdeck.tui.config import TuiConfig
    from shipdeck.tui.views.models import ModelsView, VersionTable

    timings: dict[str, float] = {}

    async def run() -> None:
        counted = Counted()
        runner = open_runner(url, counted)
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(120, 36)) as pilot:
            await counted.settled(pilot)
            made = counted.made
            view = ModelsView(id="models-view")
            shown = await first_frame(
                app, pilot, lambda: app.push_screen(host_screen(view)), lambda: view.parts
            )
            timings.update(shown)
            timings["requests"] = counted.made - made
            timings["rows"] = view.query_one(VersionTable).row_count
        await runner.close()
        timings["raw_s"], timings["raw_requests"] = await raw_models(url)

    asyncio.run(run())
    return timings


def bench_compare(url: str, run_ids: list[str]) -> dict[str, float]:
    from shipdeck.tui import create_app
    from shipdeck.tui.config import TuiConfig
    from shipdeck.tui.screens.compare import CompareScreen

    timings: dict[str, float] = {}

    async def run() -> None:
        counted = Counted()
        runner = open_runner(url, counted)
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(120, 36)) as pilot:
            await counted.settled(pilot)
            made = counted.made
            screen = CompareScreen(0, list(run_ids))
            shown = await first_frame(
                app,
                pilot,
                lambda: app.push_screen(screen),
                lambda: screen.comparison is not None,
            )
            timings.update(shown)
            timings["requests"] = counted.made - made
            timings["subjects"] = len(screen.details)
            timings["with_curves"] = sum(
                1 for d in screen.details if d is not None and len(d.metrics) > 20
            )
        await runner.close()
        timings["raw_s"], timings["raw_requests"] = await raw_compare(url, run_ids)

    asyncio.run(run())
    return timings


def run_all(quick: bool = False, repeat: int = 1, runner_only: bool = False) -> dict[str, Any]:
    runs, steps, versions = (100, 10, 30) if quick else (1000, 10, 200)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = start_mlflow(Path(tmp) / "mlflow")
        try:
            t = time.perf_counter()
            ids = fill(server, runs, steps, versions)
            results["setup_s"] = time.perf_counter() - t
            # Once unmeasured: MLflow's first queries warm its own caches.
            bench_runner(server.url, ids[:10])
            results["runner"] = medians([bench_runner(server.url, ids[:10]) for _ in range(repeat)])
            if not runner_only:
                results["models"] = medians([bench_models(server.url) for _ in range(repeat)])
                results["compare"] = medians(
                    [bench_compare(server.url, ids[:10]) for _ in range(repeat)]
                )
        finally:
            server.stop()
    results["config"] = {
        "runs": runs,
        "steps": steps,
        "metrics": len(METRICS),
        "versions": versions,
        "repeat": repeat,
        "load_average": os.getloadavg()[0],
    }
    return results


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def report(results: dict[str, Any]) -> str:
    r, cfg = results["runner"], results["config"]
    lines = [
        f"MLflow {cfg['runs']:,} runs x {cfg['metrics']} metrics x {cfg['steps']} steps,"
        f" a model of {cfg['versions']} versions (seeded in {results['setup_s']:.1f} s)",
        f"runner alone: Models view's answers {r['models_s']:.3f} s, bare httpx"
        f" {r['models_raw_s']:.3f} s, ratio {r['models_s'] / r['models_raw_s']:.2f}x;"
        f" 10-run compare with histories {r['compare_s']:.3f} s, bare httpx"
        f" {r['compare_raw_s']:.3f} s, ratio {r['compare_s'] / r['compare_raw_s']:.2f}x",
    ]
    if "models" not in results:
        lines.append(f"(medians of {cfg['repeat']}; load average {cfg['load_average']:.2f})")
        return "\n".join(lines)
    m, c = results["models"], results["compare"]
    return "\n".join(
        [
            *lines,
            f"Models view first frame painted {m['painted_s']:.3f} s (data loaded"
            f" {m['load_s']:.3f} s, app idle {m['first_frame_s']:.3f} s, {m['rows']:.0f} rows,"
            f" {m['requests']:.0f} requests); bare httpx REST {m['raw_s']:.3f} s"
            f" ({m['raw_requests']:.0f} requests); ratio {m['painted_s'] / m['raw_s']:.2f}x"
            f" (idle {m['first_frame_s'] / m['raw_s']:.2f}x)   target <= 1.5x",
            f"compare 10 runs with curves painted {c['painted_s']:.3f} s (data loaded"
            f" {c['load_s']:.3f} s, app idle {c['first_frame_s']:.3f} s, {c['with_curves']:.0f}"
            f" with curves, {c['requests']:.0f} requests); bare httpx REST {c['raw_s']:.3f} s"
            f" ({c['raw_requests']:.0f} requests); ratio {c['painted_s'] / c['raw_s']:.2f}x"
            f" (idle {c['first_frame_s'] / c['raw_s']:.2f}x)   target <= 1.5x",
            f"(medians of {cfg['repeat']}; load average {cfg['load_average']:.2f})",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 runs, 30 versions")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (medians)")
    parser.add_argument("--runner-only", action="store_true", help="no TUI: the runner's answers")
    args = parser.parse_args()
    results = run_all(args.quick, args.repeat, args.runner_only)
    print(json.dumps(results, indent=2) if args.json else report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
