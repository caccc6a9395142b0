"""The TUI's models, deployments and timeline views against real runners: the local runner
with its deployment half on a small workspace (real deploy and health scripts, SQLite in a
tmp dir), a fixed user, and a deterministic clock for everything the deployments record."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.pilot import Pilot
from textual.widgets import Footer

from shipdeck.model import (
    RunStatus,
    WorkspaceSpec,
)
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.testing.frozen import BASE, FrozenTimes, frozen_clock
from shipdeck.tui import ShipdeckApp, create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.refused_keys import HidesRefusedKeys
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.workspace import load_workspace
from tests.engine.deploy.conftest import SCRIPTS

USER = "op@deck"
NOW = BASE + timedelta(hours=3)
"""The app's clock: after everything the seed and the tests do."""
WAIT_DEADLINE = 20.0

WORKSPACE = """
[metrics]
auc = "max"
loss = "min"

[pipelines.build]
params = { version = "1", fail = false }

[pipelines.build.tasks.package]
run = "sh scripts/package.sh"

[pipelines.train]
params = { auc = 0.9, lr = 0.1, steps = 5 }

[pipelines.train.tasks.train]
run = "sh scripts/train_steps.sh"
registers = { model = "churn", artifact = "out/model.json" }

[services.api]
pipeline = "build"
artifact = "dist/app.txt"
environments = ["dev", "staging", "prod"]
deploy = "sh scripts/deploy.sh"
health = "sh scripts/health.sh"
gates.prod = ["pipeline:build succeeded"]

[services.churn]
model = "churn"
environments = ["staging", "prod"]
deploy = "sh scripts/deploy.sh"
health = "sh scripts/health_model.sh"
gates.prod = ["metric:auc >= 0.8"]
"""

TRAIN_STEPS = """
set -e
rm -f out/model.json
mkdir -p out
i=1
while [ "$i" -le "$SHIPDECK_PARAM_STEPS" ]; do
    loss=$(awk -v i="$i" -v lr="$SHIPDECK_PARAM_LR" 'BEGIN { printf "%.4f", 1 / (1 + i * lr * 3) }')
    echo "::metric loss=$loss step=$i"
    i=$((i + 1))
done
echo "::metric auc=$SHIPDECK_PARAM_AUC"
printf '{"auc": %s}\\n' "$SHIPDECK_PARAM_AUC" > out/model.json
"""


def write_workspace(root: Path) -> WorkspaceSpec:
    root.mkdir(parents=True, exist_ok=True)
    (root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    scripts = root / "scripts"
    scripts.mkdir(exist_ok=True)
    for name, body in {**SCRIPTS, "train_steps.sh": TRAIN_STEPS}.items():
        (scripts / name).write_text(textwrap.dedent(body).lstrip())
    return load_workspace(root)


@dataclass
class Ticker:
    """The deployments' clock: every reading is a fixed step after the previous one."""

    now: datetime = BASE + timedelta(hours=1)
    step: timedelta = field(default=timedelta(minutes=1))

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


DeckRunner = LocalRunner
"""The local runner with its models-and-deployments half, as tests open it: a fixed user and a
ticking clock that stamps deploy actions and alias moves alike."""


async def open_deck(workspace: WorkspaceSpec, clock: Ticker | None = None) -> DeckRunner:
    return await open_local_runner(workspace, user=USER, clock=clock or Ticker())


async def finished(runner: LocalRunner, pipeline: str, **params: str) -> str:
    run = await runner.start_run(pipeline, params or None, trigger="test")
    done = await asyncio.wait_for(runner.wait_run(run.id), 60)
    assert done.status == RunStatus.SUCCEEDED, done
    return run.id


async def seed(runner: DeckRunner) -> None:
    """api r1 in dev and staging, prod empty; churn v1 (auc .85) in prod, v2 (auc .91, the
    champion) in staging, v3 (auc .75, below the prod gate) only in the registry."""
    await finished(runner, "build")
    await finished(runner, "train", auc="0.85", lr="0.1")
    await finished(runner, "train", auc="0.91", lr="0.3")
    await finished(runner, "train", auc="0.75", lr="0.05")
    await runner.deploy("api", "r1", "dev")
    await runner.promote("api", "staging")
    await runner.deploy("churn", "v1", "staging")
    await runner.promote("churn", "prod")
    await runner.alias("churn", "champion", "v2")
    await runner.deploy("churn", "v2", "staging")


@dataclass
class Deck:
    workspace: WorkspaceSpec
    runner: DeckRunner

    def app(self, *runners: object, **kwargs: Any) -> ShipdeckApp:
        """The app over these runners (default: this deck's), times pinned to a grid."""
        kwargs.setdefault("config", TuiConfig())
        kwargs.setdefault("clock", frozen_clock(NOW))
        chosen = [FrozenTimes(r) if isinstance(r, DeckRunner) else r for r in runners] or [
            FrozenTimes(self.runner)
        ]
        return create_app(chosen, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded workspace, recorded once; each test works on its own copy."""
    root = tmp_path_factory.mktemp("deck") / "ws"

    async def record() -> None:
        runner = await open_deck(write_workspace(root))
        try:
            await seed(runner)
        finally:
            await runner.close()

    asyncio.run(record())
    return root


@pytest.fixture
async def deck(seeded: Path, tmp_path: Path) -> AsyncIterator[Deck]:
    root = tmp_path / "ws"
    shutil.copytree(seeded, root)
    workspace = load_workspace(root)
    runner = await open_deck(workspace, Ticker(now=BASE + timedelta(hours=2)))
    try:
        yield Deck(workspace, runner)
    finally:
        await runner.close()


class HostScreen(HidesRefusedKeys):
    """One top-level view on a screen of its own (as the main screen's tab holds it, keys of
    refused actions hidden as there)."""

    def __init__(self, view: Any) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield self.view
        yield Footer(compact=True)


async def wait_for(
    pilot: Pilot[Any], condition: Callable[[], object], what: str = "condition"
) -> None:
    deadline = time.monotonic() + WAIT_DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def open_view(pilot: Pilot[Any], name: str) -> Any:
    """Show a top-level view (models, deployments, timeline) and wait for every runner's answer."""
    from shipdeck.tui.views.deployments import DeploymentsView
    from shipdeck.tui.views.models import ModelsView
    from shipdeck.tui.views.timeline import TimelineView

    views = {"models": ModelsView, "deployments": DeploymentsView, "timeline": TimelineView}
    app = pilot.app
    view = views[name](id=f"{name}-view")
    await app.push_screen(HostScreen(view))
    await wait_for(pilot, lambda: len(view.parts) == len(app.cockpit.runners), f"the {name} view")
    await pilot.pause()
    view.focus_table()
    await pilot.pause()
    return view
