"""Regenerate screenshots/*.svg (used by the README and docs) from real demo runs.

Run: .venv/bin/python scripts/screenshots.py [--out screenshots]

Runs the demo's `ci` and a failing `train -p flaky=true` on a real LocalRunner in a temporary
workspace, then drives the TUI with Pilot and saves SVGs. Times are pinned (FrozenTimes and a
frozen clock) so regenerating without a UI change gives identical files. `prefect-run` starts
a private Prefect server (127.0.0.1, analytics and UI off) and the tests' `flow.serve()`
executor (tests/prefect/flows/etl.py), runs a flow, shows its graph beside the local runner,
and stops both by their process ids (needs the dev extra: `make .venv/.dev-installed`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from shipdeck.demo import init_demo
from shipdeck.runners.local import open_local_runner
from shipdeck.testing.frozen import FrozenTimes, frozen_clock, frozen_now
from shipdeck.tui import ShipdeckApp, create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.dialogs.confirm import ConfirmScreen
from shipdeck.tui.dialogs.help import HelpScreen
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.log.view import LogView
from shipdeck.tui.screens.log import LogScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.widgets.dag import DagView
from shipdeck.workspace import load_workspace

Scene = Callable[[Pilot[Any]], Awaitable[None]]


async def until(pilot: Pilot[Any], condition: Callable[[], object]) -> None:
    deadline = time.monotonic() + 15
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("screenshot scene did not settle")
        await pilot.pause(0.02)


async def overview(pilot: Pilot[Any]) -> None:
    screen = pilot.app.screen
    await until(pilot, lambda: isinstance(screen, MainScreen) and screen.snapshot is not None)
    await pilot.pause()


async def run_view(pilot: Pilot[Any]) -> None:
    await overview(pilot)
    await pilot.press("enter")
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.query(LogPane))
    view = app.screen.query_one(LogView)
    await until(pilot, lambda: view._opened and not view._pending_tail)


async def log_search(pilot: Pilot[Any]) -> None:
    await overview(pilot)
    app = pilot.app
    await app.push_screen(LogScreen("2", "train_b"))
    view = app.screen.query_one(LogView)
    await until(pilot, lambda: view._opened)
    await pilot.press("slash", *"loss=0.4", "enter")
    await until(pilot, lambda: view.match_line is not None)


async def log_filter(pilot: Pilot[Any]) -> None:
    await log_search(pilot)
    view = pilot.app.screen.query_one(LogView)
    await until(pilot, lambda: view._matches is not None and view._matches.done)
    await pilot.press("ampersand")
    await until(pilot, lambda: view._row_count() == len(view._matches.lines))  # type: ignore[union-attr]
    await pilot.pause()


async def rerun_preview(pilot: Pilot[Any]) -> None:
    await run_view(pilot)
    await pilot.press("R")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))


async def help_view(pilot: Pilot[Any]) -> None:
    await run_view(pilot)
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))


async def runs_view(pilot: Pilot[Any]) -> None:
    await overview(pilot)
    await pilot.press("3")
    await pilot.pause()


SCENES: list[tuple[str, Scene, str, tuple[int, int]]] = [
    ("overview", overview, "shipdeck-dark", (100, 28)),
    ("overview-80x24", overview, "shipdeck-dark", (80, 24)),
    ("overview-light", overview, "shipdeck-light", (100, 28)),
    ("overview-high-contrast", overview, "shipdeck-high-contrast", (100, 28)),
    ("runs", runs_view, "shipdeck-dark", (100, 28)),
    ("run-failed", run_view, "shipdeck-dark", (100, 28)),
    ("log-search", log_search, "shipdeck-dark", (100, 28)),
    ("log-filter", log_filter, "shipdeck-dark", (100, 28)),
    ("rerun-preview", rerun_preview, "shipdeck-dark", (100, 28)),
    ("help", help_view, "shipdeck-dark", (100, 28)),
]


async def record(root: Path) -> None:
    runner = await open_local_runner(load_workspace(root), user="op")
    try:
        for pipeline, params in (("ci", None), ("train", {"flaky": "true"})):
            run = await runner.start_run(pipeline, params)
            await runner.wait_run(run.id)
    finally:
        await runner.close()


async def shoot(root: Path, out: Path, name: str, scene: Scene, theme: str, size: Any) -> None:
    runner = await open_local_runner(load_workspace(root), user="op")
    app: ShipdeckApp = create_app(
        [FrozenTimes(runner)], theme=theme, clock=frozen_clock(frozen_now(2)), config=TuiConfig()
    )
    try:
        async with app.run_test(size=size) as pilot:
            await scene(pilot)
            await pilot.pause()
            app.save_screenshot(str(out / f"{name}.svg"))
    finally:
        await runner.close()


async def prefect_run(root: Path, out: Path) -> None:
    """A Prefect flow run's task graph, the Prefect server beside the local runner."""
    from shipdeck.runners.prefect.runner import PrefectRunner
    from tests.prefect.conftest import serve_flow, start_prefect

    server = await asyncio.to_thread(start_prefect, root / "prefect")
    try:
        await asyncio.to_thread(serve_flow, server, "etl.py", "nested/nightly")
        orchestra = PrefectRunner(server.url, name="orchestra")
        local = await open_local_runner(load_workspace(root), user="op")
        try:
            run = await orchestra.start_run("etl/nightly", {"rows": "500"})
            await orchestra.wait_run(run.id)
            app: ShipdeckApp = create_app(
                [FrozenTimes(local), orchestra],
                theme="shipdeck-dark",
                clock=frozen_clock(frozen_now(2)),
                config=TuiConfig(),
            )
            async with app.run_test(size=(100, 28)) as pilot:
                await overview(pilot)
                app.open_run_on(1, run.id, label=run.label)
                await until(pilot, lambda: isinstance(app.screen, RunScreen))
                screen = app.screen
                await until(
                    pilot,
                    lambda: screen.query(DagView) and len(screen.query_one(DagView).tasks) >= 5,
                )
                await pilot.pause(0.5)
                app.save_screenshot(str(out / "prefect-run.svg"))
        finally:
            await local.close()
            await orchestra.close()
    finally:
        await asyncio.to_thread(server.stop)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "screenshots"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with tempfile.TemporaryDirectory() as tmp:
        root = init_demo(Path(tmp) / "demo")
        asyncio.run(record(root))
        for name, scene, theme, size in SCENES:
            asyncio.run(shoot(root, args.out, name, scene, theme, size))
            print(f"{args.out / name}.svg")
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' helpers
        asyncio.run(prefect_run(root, args.out))
        print(f"{args.out / 'prefect-run'}.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
