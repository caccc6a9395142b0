"""The loop closed in the cockpit, against a real local runner: a monitor watching the churn
model alerts, `on_alert` retrains, an automatic rollback names the alert; the Timeline shows
the fires, the alerts (opened, acknowledged, closed) and the automatic action with its
reason, and the Models and Deployments views set the monitor's live value beside the deployed
version's training metric."""

from __future__ import annotations

import asyncio
import shutil
import textwrap
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from shipdeck.model import AutoCause, AutoKind, RunStatus
from shipdeck.model.capabilities import Capabilities, Capability
from shipdeck.runners.delegating import DelegatingRunner
from shipdeck.runners.live_performance import load_live_performance
from shipdeck.testing.frozen import BASE
from shipdeck.tui.screens.monitor_detail import MonitorScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.view_data.timeline import ItemKind, load_timeline
from shipdeck.tui.views.deployments import DeploymentsView
from shipdeck.tui.views.models import ModelsView
from shipdeck.tui.views.timeline import TimelineView
from shipdeck.workspace import load_workspace
from tests.tui.deck import Deck, Ticker, open_deck, open_view, seed, wait_for, write_workspace
from tests.tui.test_deployments import go_to
from tests.tui.test_timeline_fleet import texts

WATCHING = """
[pipelines.retrain]
on_alert = ["feedback"]

[pipelines.retrain.tasks.fit]
run = "echo retraining"

[monitors.feedback]
description = "auc on labelled feedback from prod"
run = "echo \\"::metric auc=$(cat live_auc)\\""
every = "10m"
thresholds = ["auc < 0.8"]
watches = { model = "churn" }
"""


class Clock:
    """The scheduler's and the monitors' clock: checks and alerts on the app's grid."""

    def __init__(self) -> None:
        self.now = (BASE + timedelta(hours=2)).timestamp()

    def __call__(self) -> float:
        return self.now


async def check(runner: Any, root: Path, value: float, clock: Clock) -> None:
    (root / "live_auc").write_text(f"{value}\n")
    clock.now += 300
    await runner.check_monitor("feedback")


@pytest.fixture(scope="module")
def looped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """churn v1 in prod (trained auc .85): the monitor reads auc .78 (alert #1 opens, retrain
    fires, staging is rolled back automatically because of it, the alert is acknowledged),
    .86 (it closes), then .79 (alert #2)."""
    root = tmp_path_factory.mktemp("loop") / "ws"
    write_workspace(root)
    toml = root / "shipdeck.toml"
    toml.write_text(toml.read_text() + textwrap.dedent(WATCHING))

    async def record() -> None:
        runner = await open_deck(load_workspace(root))
        clock = Clock()
        scheduler = runner.start_scheduling(clock=clock)
        try:
            await seed(runner)
            await scheduler.tick()  # arms the triggers
            await check(runner, root, 0.78, clock)
            [retrain] = await scheduler.tick()
            assert (await runner.wait_run(retrain.id)).status == RunStatus.SUCCEEDED
            cause = AutoCause(kind=AutoKind.ALERT, text="auc 0.78 < 0.8", alert_id=1)
            await runner.deployer.rollback("churn", "staging", expect="v2", cause=cause)
            await runner.ack_alert(1, note="new labels")
            await check(runner, root, 0.86, clock)
            await check(runner, root, 0.79, clock)
        finally:
            await runner.close()

    asyncio.run(record())
    return root


@pytest.fixture
async def deck(looped: Path, tmp_path: Path) -> AsyncIterator[Deck]:
    root = tmp_path / "ws"
    shutil.copytree(looped, root)
    workspace = load_workspace(root)
    runner = await open_deck(workspace, Ticker(now=BASE + timedelta(hours=2, minutes=30)))
    try:
        yield Deck(workspace, runner)
    finally:
        await runner.close()


async def test_the_timeline_shows_fires_alerts_and_automatic_actions(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(120, 36)) as pilot:
        view: TimelineView = await open_view(pilot, "timeline")
        shown = texts(view)
        retrain = next(t for t in shown if "retrain.on_alert fired" in t)
        assert retrain.startswith("▸ retrain.on_alert fired #") and retrain.endswith(
            " retrain: alert #1 feedback"
        )
        assert "⚠ alert #1 feedback opened: auc 0.78, alerts < 0.8" in shown
        assert "✎ alert #1 feedback acknowledged by op: new labels" in shown
        assert "✓ alert #1 feedback closed: auc 0.86, back inside < 0.8" in shown
        assert "⚠ alert #2 feedback opened: auc 0.79, alerts < 0.8" in shown
        assert "✓ auto rollback churn staging v2 → v1, because alert #1" in shown

        while view.kind != ItemKind.ALERT:
            await pilot.press("K")
        assert [t.split(":")[0] for t in texts(view)] == [
            "⚠ alert #2 feedback opened",
            "✓ alert #1 feedback closed",
            "✎ alert #1 feedback acknowledged by op",
            "⚠ alert #1 feedback opened",
        ]
        await pilot.press("enter")  # an alert leads to its monitor
        await wait_for(pilot, lambda: isinstance(app.screen, MonitorScreen), "the monitor")
        await pilot.press("escape")

        while view.kind != ItemKind.FIRE:
            await pilot.press("K")
        assert texts(view) == [retrain]  # the checks here were asked for, not fired
        await pilot.press("enter")  # a fire leads to the run it started
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run")


class WithoutMonitors(DelegatingRunner):
    """A runner that declares neither schedules nor monitors: asking them is a bug."""

    async def capabilities(self) -> Capabilities:
        declared = await self.inner.capabilities()
        can = declared.can - {Capability.MONITORS, Capability.SCHEDULES}
        return declared.model_copy(update={"can": can})

    async def alerts(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("alerts asked of a runner without monitors")

    async def monitors(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("monitors asked of a runner without monitors")


async def test_a_runner_without_monitors_contributes_no_alerts_and_no_live_values(
    deck: Deck,
) -> None:
    items = await load_timeline(0, WithoutMonitors(deck.runner))
    assert items and not any(item.kind == ItemKind.ALERT for item in items)
    assert await load_live_performance(WithoutMonitors(deck.runner)) == []


async def test_live_values_are_set_beside_the_deployed_versions_training_metric(
    deck: Deck,
) -> None:
    [live] = await load_live_performance(deck.runner)
    assert (live.monitor, live.model, live.version_label, live.service, live.env) == (
        "feedback",
        "churn",
        "v1",
        "churn",
        "prod",
    )
    [auc] = live.metrics
    assert (auc.key, auc.live, auc.trained, auc.direction, auc.better) == (
        "auc",
        0.79,
        0.85,
        "max",
        False,
    )

    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        models: ModelsView = await open_view(pilot, "models")
        line = models.query_one("#models-live")
        await wait_for(pilot, lambda: line.display, "the live line")
        text = str(line.render())
        assert text.startswith("churn v1 on prod live auc 0.79 vs trained 0.85 ▼-0.06")
        await pilot.press("escape")

        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "prod")
        cell = str(view.query_one("#deploy-matrix").get_cell("0:churn", "env:prod"))  # type: ignore[attr-defined]
        assert "▼live" in cell.splitlines()[0]
        detail = str(view.query_one("#deploy-detail").render())
        assert "live auc 0.79 vs trained 0.85 ▼-0.06 · monitor feedback" in detail
        await go_to(pilot, view, "0:churn", "staging")  # not watched: no live value
        assert "live" not in str(view.query_one("#deploy-detail").render())


def test_timeline_snapshot(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_view(pilot, "timeline")
        await pilot.pause(0.1)

    assert snap_compare(deck.app(), terminal_size=(80, 24), run_before=run_before)


def test_deployments_live_snapshot(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        view = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "prod")
        await pilot.pause(0.1)

    assert snap_compare(deck.app(), terminal_size=(80, 24), run_before=run_before)


def test_shipdeck_monitors_prints_the_live_comparison(looped: Path, tmp_path: Path) -> None:
    from tests.cli.conftest import Shipdeck

    root = tmp_path / "ws"
    shutil.copytree(looped, root)
    shipdeck = Shipdeck(root)
    listed = shipdeck("monitors")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[-1] == (
        "live: churn v1 in churn/prod (monitor feedback): auc 0.79 vs 0.85 trained, -0.06 worse"
    )
    [info] = shipdeck.json("monitors")
    [live] = info["live"]
    assert (live["version_label"], live["env"], live["metrics"][0]["trained"]) == (
        "v1",
        "prod",
        0.85,
    )
