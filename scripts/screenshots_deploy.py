"""Regenerate the models, compare, deployments, promote, deploy, history, timeline and many-runners
screenshots.

Run: .venv/bin/python scripts/screenshots_deploy.py [--out screenshots]

Builds the demo in a temporary directory, runs `ci` and three `train` runs, deploys and
promotes the demo's `api` and `churn` services with their real scripts, points `champion` at a
version, then drives the TUI with Pilot and saves SVGs. Run times are pinned (FrozenTimes),
the deployments' clock ticks one minute per reading and the app's clock is frozen, so
regenerating without a UI change gives identical files.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Footer

from shipdeck.demo import init_demo
from shipdeck.model import WorkspaceSpec
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.testing.frozen import BASE, FrozenTimes, frozen_clock
from shipdeck.tui import ShipdeckApp, create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.dialogs.promote import ActionScreen
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.screens.compare import CompareScreen
from shipdeck.tui.screens.env_history import EnvHistoryScreen
from shipdeck.tui.views.deployments import MatrixTable
from shipdeck.tui.views.fleet_view import FleetView
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.workspace import load_workspace

USER = "op@demo"
NOW = BASE + timedelta(hours=3)
Scene = Callable[[Pilot[Any]], Awaitable[None]]


@dataclass
class Ticker:
    now: datetime = BASE + timedelta(hours=1)
    step: timedelta = field(default=timedelta(minutes=1))

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


async def open_runner(workspace: WorkspaceSpec, clock: Ticker) -> LocalRunner:
    return await open_local_runner(workspace, user=USER, clock=clock)


async def record(root: Path) -> None:
    runner = await open_runner(load_workspace(root), Ticker())
    try:
        for pipeline, params in (
            ("ci", None),
            ("train", None),
            ("train", {"lr_a": "0.2", "seed": "3"}),
            ("train", {"epochs": "5"}),
        ):
            run = await runner.start_run(pipeline, params, jobs=1)  # a fixed metric order
            await runner.wait_run(run.id)
        await runner.deploy("api", "r1", "dev")
        await runner.promote("api", "staging")
        await runner.deploy("churn", "v1", "staging")
        await runner.promote("churn", "prod")
        await runner.alias("churn", "champion", "v2")
        await runner.deploy("churn", "v2", "staging")
    finally:
        await runner.close()


async def until(pilot: Pilot[Any], condition: Callable[[], object]) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("screenshot scene did not settle")
        await pilot.pause(0.02)


class Host(Screen[None]):
    """A view on its own screen, for when the main screen does not hold it yet."""

    def __init__(self, view: FleetView[Any]) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield self.view
        yield Footer(compact=True)


async def show(pilot: Pilot[Any], name: str) -> FleetView[Any]:
    from shipdeck.tui.screens.main import MainScreen
    from shipdeck.tui.views.deployments import DeploymentsView
    from shipdeck.tui.views.models import ModelsView
    from shipdeck.tui.views.registry import BY_ID
    from shipdeck.tui.views.timeline import TimelineView

    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, MainScreen))
    if name in BY_ID:
        await pilot.press(BY_ID[name].key)
        await until(pilot, lambda: app.screen.query(f"#{name}-view"))
        view = app.screen.query_one(f"#{name}-view")
    else:
        kinds = {"models": ModelsView, "deployments": DeploymentsView, "timeline": TimelineView}
        view = kinds[name](id=f"{name}-view")
        await app.push_screen(Host(view))
    assert isinstance(view, FleetView)
    await until(pilot, lambda: len(view.parts) == len(app.cockpit.runners))
    view.focus_table()
    await pilot.pause()
    return view


async def models(pilot: Pilot[Any]) -> None:
    await show(pilot, "models")
    await pilot.press("space")


async def compare(pilot: Pilot[Any]) -> None:
    await show(pilot, "models")
    await pilot.press("space", "space", "space", "enter")
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, CompareScreen))
    await until(pilot, lambda: app.screen.comparison is not None)
    await pilot.press("d", "down", "down", "down")


async def select(pilot: Pilot[Any], view: FleetView[Any], row: str, env: str) -> None:
    table = view.query_one(MatrixTable)
    table.move_cursor(row=table.row_keys.index(row), column=table.envs.index(env) + 1)
    await pilot.pause()


async def deployments(pilot: Pilot[Any]) -> None:
    view = await show(pilot, "deployments")
    await select(pilot, view, "0:churn", "prod")


async def promote(pilot: Pilot[Any]) -> None:
    view = await show(pilot, "deployments")
    await select(pilot, view, "0:churn", "staging")
    await pilot.press("p")
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen.phase == "ready")
    await pilot.press(*"weekly refresh", "enter", *"chu")


async def deploy(pilot: Pilot[Any]) -> None:
    view = await show(pilot, "deployments")
    await select(pilot, view, "0:churn", "prod")
    await pilot.press("d")
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ActionScreen) and app.screen.phase == "ready")
    screen = app.screen
    assert isinstance(screen, ActionScreen)
    await pilot.press("down", "down", "down")  # past the three versions: the champion alias
    await until(pilot, lambda: screen.phase == "ready" and screen.focused is not None)


async def history(pilot: Pilot[Any]) -> None:
    view = await show(pilot, "deployments")
    await select(pilot, view, "0:churn", "prod")
    await pilot.press("enter")
    app = pilot.app
    await until(
        pilot, lambda: isinstance(app.screen, EnvHistoryScreen) and app.screen.query(LogPane)
    )
    log = app.screen.query_one(LogPane).view
    await until(pilot, lambda: log._opened and log.buffer.total > 0)


async def timeline(pilot: Pilot[Any]) -> None:
    await show(pilot, "timeline")


SCENES: list[tuple[str, Scene, tuple[int, int]]] = [
    ("models", models, (100, 28)),
    ("compare", compare, (100, 28)),
    ("deployments", deployments, (100, 28)),
    ("deployments-80x24", deployments, (80, 24)),
    ("promote-prod", promote, (100, 28)),
    ("deploy-prod", deploy, (100, 28)),
    ("environment-history", history, (100, 28)),
    ("timeline", timeline, (100, 28)),
]


async def shoot(root: Path, out: Path, name: str, scene: Scene, size: Any) -> None:
    runner = await open_runner(load_workspace(root), Ticker(now=BASE + timedelta(hours=2)))
    app: ShipdeckApp = create_app(
        [FrozenTimes(runner)], clock=frozen_clock(NOW), config=TuiConfig()
    )
    try:
        async with app.run_test(size=size) as pilot:
            await scene(pilot)
            await pilot.pause(0.1)
            app.save_screenshot(str(out / f"{name}.svg"))
    finally:
        await runner.close()


async def shoot_many(root: Path, out: Path) -> None:
    """The Overview over three runners: this demo, a copy of it (`lab`) whose last `train`
    failed, and `far`, a runner nobody answers for."""
    from shipdeck.runners.remote import RemoteRunner
    from shipdeck.tui.screens.main import MainScreen

    lab_root = root.parent / "lab"
    if not lab_root.exists():
        shutil.copytree(root, lab_root)
        lab = await open_runner(load_workspace(lab_root), Ticker(now=BASE + timedelta(hours=2)))
        failed = await lab.start_run("train", {"flaky": "1"}, jobs=1)
        await lab.wait_run(failed.id)
        await lab.close()
    runner = await open_runner(load_workspace(root), Ticker(now=BASE + timedelta(hours=2)))
    lab = await open_local_runner(load_workspace(lab_root), user=USER, name="lab")
    far = RemoteRunner("http://127.0.0.1:9", name="far")
    app: ShipdeckApp = create_app(
        [FrozenTimes(runner), FrozenTimes(lab), far],
        clock=frozen_clock(NOW),
        config=TuiConfig(),
    )
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, MainScreen))
            main = app.screen
            assert isinstance(main, MainScreen)
            await until(pilot, lambda: main.fleet is not None)
            await until(pilot, lambda: app.cockpit.connection_state(2) == "offline")
            await pilot.pause(0.1)
            app.save_screenshot(str(out / "many-runners.svg"))
    finally:
        for each in (runner, lab, far):
            await each.close()


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
        for name, scene, size in SCENES:
            asyncio.run(shoot(root, args.out, name, scene, size))
            print(f"{args.out / name}.svg")
        asyncio.run(shoot_many(root, args.out))
        print(f"{args.out / 'many-runners'}.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
