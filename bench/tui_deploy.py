"""TUI benchmarks for models and comparisons: the Models view over 1,000 versions x 20 metrics
(first frame), and a comparison of 10 runs with 100-step curves (charts drawn).

Run: .venv/bin/python bench/tui_deploy.py [--quick] [--json] [--repeat N]

Both run the real app over a real runner (SQLite registry, real runs for the curves) in a
throw-away workspace, and print each figure next to a reference measured in the same run: a
bare Textual DataTable of the same cells, and plotext drawing the same curves on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WORKSPACE = """
[pipelines.curve]
params = { steps = 100, seed = 1 }
[pipelines.curve.tasks.fit]
run = "python3 fit.py"
registers = { model = "bench", artifact = "model.json" }

[services.bench]
model = "bench"
environments = ["staging", "prod"]
deploy = "true"
"""

FIT = """
import json, math, os, random
params = json.load(open(os.environ["SHIPDECK_PARAMS"]))
rng = random.Random(int(params["seed"]))
rate = rng.uniform(0.02, 0.08)
for step in range(1, int(params["steps"]) + 1):
    print(f"::metric loss={math.exp(-rate * step) + rng.uniform(0, 0.02):.5f} step={step}")
    print(f"::metric auc={0.5 + 0.45 * (1 - math.exp(-rate * step)):.5f} step={step}")
json.dump({"ok": True}, open("model.json", "w"))
"""


def make_workspace(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "shipdeck.toml").write_text(WORKSPACE)
    (root / "fit.py").write_text(FIT)
    return root


async def open_runner(root: Path) -> Any:
    from shipdeck.runners.local import open_local_runner
    from shipdeck.workspace import load_workspace

    return await open_local_runner(load_workspace(root), user="bench")


async def fill(root: Path, runs: int, steps: int, versions: int, metrics: int) -> list[int]:
    """`runs` real runs with `steps`-step curves, then registry versions up to `versions`."""
    runner = await open_runner(root)
    try:
        ids = []
        for seed in range(runs):
            run = await runner.start_run("curve", {"steps": str(steps), "seed": str(seed)})
            await runner.wait_run(run.id)
            ids.append(run.id)
        rng = random.Random(7)
        keys = [f"metric_{i:02d}" for i in range(metrics - 2)] + ["auc", "val_loss"]
        registry = runner.deployer.registry
        now = datetime.now(UTC)
        for _ in range(versions - runs):
            registry.register(
                "bench",
                run_id=ids[0],
                task="fit",
                params={"lr": round(rng.uniform(0.01, 0.5), 3), "depth": rng.randint(2, 9)},
                metrics={k: rng.uniform(0, 1) for k in keys},
                sha256="0" * 64,
                now=now,
            )
        registry.set_alias("bench", "champion", "1", user="bench", now=now)
        return ids
    finally:
        await runner.close()


async def painted(app: Any) -> None:
    """Until the next frame has been painted."""
    done = asyncio.get_running_loop().create_future()
    app.call_after_refresh(lambda: done.set_result(None))
    await done


async def first_frame(
    app: Any, pilot: Any, show: Callable[[], Awaitable[object]], ready: Callable[[], object]
) -> dict[str, float]:
    """Show a screen and time it, with one definition for every row: `load_s` until `ready`,
    `painted_s` (and `painted_cpu_s`) until the next frame is painted, `first_frame_s` until
    the app is idle after it."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    await show()
    while not ready():
        await pilot.pause(0.001)
    t1 = time.perf_counter()
    await painted(app)
    timings = {"painted_s": time.perf_counter() - t0, "painted_cpu_s": time.process_time() - c0}
    await pilot.pause()
    timings["first_frame_s"] = time.perf_counter() - t0
    timings["load_s"] = t1 - t0
    return timings


def host_screen(view: Any) -> Any:
    from textual.screen import Screen

    class Host(Screen[None]):
        def compose(self):  # type: ignore[no-untyped-def]
            yield view

    return Host()


def bench_models(root: Path) -> dict[str, float]:
    from shipdeck.tui import create_app
    from shipdeck.tui.config import TuiConfig
    from shipdeck.tui.views.models import ModelsView, VersionTable

    timings: dict[str, float] = {}

    async def run() -> None:
        runner = await open_runner(root)
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.3)
            view = ModelsView(id="models-view")
            # The view is painted in the same step that stores the answer.
            shown = await first_frame(
                app, pilot, lambda: app.push_screen(host_screen(view)), lambda: view.parts
            )
            timings.update(shown)
            timings["rows"] = view.query_one(VersionTable).row_count
            t2 = time.perf_counter()
            await pilot.press("s")
            await pilot.pause()
            timings["sort_s"] = time.perf_counter() - t2
        await runner.close()

    asyncio.run(run())
    # The old view put its first 60 rows in a DataTable; a DataTable of every row is slower still.
    timings["reference_s"] = reference_table(60, 26)
    return timings


def reference_table(rows: int, columns: int) -> float:
    """A bare Textual DataTable of rows x columns short strings: push to first frame."""
    from textual.app import App
    from textual.widgets import DataTable

    cells = [[f"{r * c % 997 / 997:.4f}" for c in range(columns)] for r in range(rows)]
    result: dict[str, float] = {}

    class Bare(App[None]):
        pass

    async def run() -> None:
        app = Bare()
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.3)
            t0 = time.perf_counter()
            table: DataTable[str] = DataTable()
            await app.screen.mount(table)
            table.add_columns(*(f"c{i}" for i in range(columns)))
            table.add_rows(cells)
            await pilot.pause()
            result["s"] = time.perf_counter() - t0

    asyncio.run(run())
    return result["s"]


def bench_compare(root: Path, run_ids: list[int]) -> dict[str, float]:
    from shipdeck.tui import create_app
    from shipdeck.tui.config import TuiConfig
    from shipdeck.tui.screens.compare import CompareScreen, curves_for
    from shipdeck.tui.widgets.charts import Chart

    timings: dict[str, float] = {}

    async def run() -> None:
        runner = await open_runner(root)
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.3)
            screen = CompareScreen(0, [str(i) for i in run_ids])
            shown = await first_frame(
                app,
                pilot,
                lambda: app.push_screen(screen),
                lambda: screen.comparison is not None,
            )
            timings.update(shown)
            curves = screen.query_one("#curves", Chart)
            labels = [s.label for s in screen.comparison.subjects]
            series = curves_for("loss", labels, screen.details)
            timings["series"] = len(series)
            timings["points"] = sum(len(s.values) for s in series)
            t2 = time.perf_counter()
            screen.show(screen.comparison, screen.details)
            await pilot.pause()
            timings["redraw_s"] = time.perf_counter() - t2
            width, height = curves.size.width, curves.size.height
        await runner.close()
        timings["reference_s"] = reference_plot(series, width, height)

    asyncio.run(run())
    return timings


def reference_plot(series: Any, width: int, height: int) -> float:
    """plotext alone drawing the same curves at the same size."""
    import plotext as plt

    t0 = time.perf_counter()
    plt.clear_figure()
    plt.plotsize(width, height)
    for one in series:
        plt.plot(list(one.steps), list(one.values), label=one.label, marker="braille")
    plt.build()
    return time.perf_counter() - t0


def run_all(quick: bool = False, repeat: int = 1) -> dict[str, Any]:
    """Both benchmarks on a fresh workspace, each `repeat` times: every figure is the median
    (bench/tui.py calls this too)."""
    runs, steps, versions, metrics = (3, 20, 100, 20) if quick else (10, 100, 1000, 20)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = make_workspace(Path(tmp) / "ws")
        t = time.perf_counter()
        ids = asyncio.run(fill(root, runs, steps, versions, metrics))
        results["setup_s"] = time.perf_counter() - t
        results["models"] = medians([bench_models(root) for _ in range(repeat)])
        results["compare"] = medians([bench_compare(root, ids) for _ in range(repeat)])
    results["config"] = {
        "runs": runs,
        "steps": steps,
        "versions": versions,
        "metrics": metrics,
        "repeat": repeat,
        "load_average": os.getloadavg()[0],
    }
    return results


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (medians)")
    args = parser.parse_args()
    results = run_all(args.quick, args.repeat)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(report(results))
    return 0


def report(results: dict[str, Any]) -> str:
    m, c, cfg = results["models"], results["compare"], results["config"]
    return "\n".join(
        [
            f"Models view, {cfg['versions']:,} versions x {cfg['metrics']} metrics  first frame "
            f"{m['first_frame_s']:.3f} s (load {m['load_s']:.3f} s, "
            f"painted {m['painted_s']:.3f} s, CPU {m['painted_cpu_s']:.3f} s),"
            f" sort {m['sort_s']:.3f} s; bare 60-row DataTable {m['reference_s']:.3f} s, ratio "
            f"{m['first_frame_s'] / m['reference_s']:.2f}x   target < 0.3 s",
            f"compare {cfg['runs']} runs, {cfg['steps']}-step curves   first frame "
            f"{c['first_frame_s']:.3f} s (load {c['load_s']:.3f} s, "
            f"painted {c['painted_s']:.3f} s, CPU {c['painted_cpu_s']:.3f} s),"
            f" redraw {c['redraw_s']:.3f} s;"
            f" plotext alone {c['reference_s']:.3f} s, ratio "
            f"{c['redraw_s'] / c['reference_s']:.2f}x   target < 0.3 s",
            f"(medians of {cfg.get('repeat', 1)}; load average {cfg.get('load_average', 0):.2f})",
        ]
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    raise SystemExit(main())
