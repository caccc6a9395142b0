"""SVG snapshots at 80x24 and 120x36: real demo runs, frozen clock and timestamps, fixed ids;
then the models, compare, deployments, history, dialog and timeline screens at 80x24 (a few at
120x36 too) on the deck: real runs and deploys, times on a grid, a fixed user and clock.

Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from shipdeck.model import Outcome, RunStatus
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.testing.frozen import FrozenTimes, frozen_clock, frozen_now
from shipdeck.tui import ShipdeckApp, create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.dialogs.alias import AliasScreen
from shipdeck.tui.dialogs.confirm import ConfirmScreen
from shipdeck.tui.dialogs.promote import ActionScreen
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.log.view import LogView
from shipdeck.tui.screens.compare import CompareScreen
from shipdeck.tui.screens.env_history import EnvHistoryScreen
from shipdeck.tui.screens.log import LogScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.views.timeline import TimelineTable
from shipdeck.tui.widgets.dag import DagView
from shipdeck.workspace import load_workspace
from tests.tui.conftest import make_workspace, wait_for
from tests.tui.deck import Deck, open_view
from tests.tui.test_deployments import body, go_to, open_action
from tests.tui.test_fleet_runs import lab

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
OK_RUN, FAILED_RUN = "1", "2"
__all__ = ["lab"]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace with run #1 (ci, succeeded) and run #2 (train, failed)."""
    root = make_workspace(tmp_path_factory.mktemp("snapshots") / "demo").root

    async def record() -> None:
        runner = await open_local_runner(load_workspace(root), user="op")
        try:
            for pipeline, params in (("ci", None), ("train", {"flaky": "true"})):
                run = await runner.start_run(pipeline, params, trigger="cli")
                await runner.wait_run(run.id)
            statuses = [r.status for r in await runner.runs()]
            assert statuses == [RunStatus.FAILED, RunStatus.SUCCEEDED]
        finally:
            await runner.close()

    asyncio.run(record())
    return root


@pytest.fixture
def make_app(history: Path) -> Iterator[Callable[[], ShipdeckApp]]:
    runners: list[LocalRunner] = []

    def make() -> ShipdeckApp:
        runner = asyncio.run(open_local_runner(load_workspace(history), user="op"))
        runners.append(runner)
        return create_app(
            [FrozenTimes(runner)],
            clock=frozen_clock(frozen_now(2)),
            config=TuiConfig(),
        )

    yield make
    for runner in runners:
        asyncio.run(runner.close())


async def overview_ready(pilot: Pilot[Any]) -> None:
    main = pilot.app.screen
    assert isinstance(main, MainScreen)
    await wait_for(pilot, lambda: main.snapshot is not None, "the snapshot")
    await pilot.pause()


async def open_failed_run(pilot: Pilot[Any]) -> None:
    await overview_ready(pilot)
    await pilot.press("enter")
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
    await wait_for(pilot, lambda: app.screen.query(LogPane), "the log pane")
    view = app.screen.query_one(LogView)
    await wait_for(pilot, lambda: view._opened and not view._pending_tail, "the log tail")


@pytest.mark.parametrize("size", SIZES)
def test_overview(snap_compare: Any, make_app: Callable[[], ShipdeckApp], size: Any) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=overview_ready)


@pytest.mark.parametrize("size", SIZES)
def test_run_view_with_a_failed_task(
    snap_compare: Any, make_app: Callable[[], ShipdeckApp], size: Any
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_failed_run(pilot)
        assert pilot.app.screen.query_one(DagView).selected == "train_b"

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_log_view_with_search_matches(
    snap_compare: Any, make_app: Callable[[], ShipdeckApp], size: Any
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await overview_ready(pilot)
        app = pilot.app
        await app.push_screen(LogScreen(FAILED_RUN, "train_b"))
        view = app.screen.query_one(LogView)
        await wait_for(pilot, lambda: view._opened, "the log")
        await pilot.press("slash", *"loss=0.4", "enter")
        await wait_for(pilot, lambda: view.match_line is not None, "a match")
        await pilot.press("n")
        await wait_for(pilot, lambda: view.note == "" and view.match_line != 0, "the next")
        matches = view._matches
        await wait_for(pilot, lambda: matches is not None and matches.done, "the match count")
        await pilot.pause()  # the status line repaints with the count

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_rerun_preview(snap_compare: Any, make_app: Callable[[], ShipdeckApp], size: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_failed_run(pilot)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "preview")

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


# Models, deployments, timeline and many runners, on the deck ------------------------------

SMALL = (80, 24)
OFFLINE_URL = "http://127.0.0.1:9"
"""The discard port: nothing listens there, and the address is the same on every machine."""


@pytest.fixture
async def far() -> AsyncIterator[RemoteRunner]:
    runner = RemoteRunner(OFFLINE_URL, name="far")
    try:
        yield runner
    finally:
        await runner.close()


async def settle(pilot: Pilot[Any]) -> None:
    # A focused input's cursor blinks on a 0.5 s timer: held steady (shown), the picture does
    # not depend on how long the machine took to get here.
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause(0.1)
    await pilot.wait_for_scheduled_animations()


async def log_loaded(pilot: Pilot[Any]) -> None:
    panes = pilot.app.screen.query(LogPane)
    if panes:
        view = panes.first().view
        await wait_for(pilot, lambda: view._opened and view.buffer.total > 0, "the log")
        await settle(pilot)


def test_models(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_view(pilot, "models")
        await pilot.press("space")
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_compare_with_charts(snap_compare: Any, deck: Deck, size: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_view(pilot, "models")
        await pilot.press("space", "space", "space", "enter")
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), "compare")
        await wait_for(pilot, lambda: app.screen.comparison is not None, "the comparison")
        await pilot.press("d")
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=size, run_before=run_before)


def test_alias_dialog(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_view(pilot, "models")
        await pilot.press("down", "down", "a")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, AliasScreen), "the dialog")
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


def test_deployments(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        view = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "prod")
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


def test_environment_history(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        view = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "prod")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, EnvHistoryScreen), "history")
        await wait_for(pilot, lambda: pilot.app.screen.query(LogPane), "the log pane")
        await log_loaded(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


def test_promote_to_prod_asks_for_the_name(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        view = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "staging")
        await open_action(pilot, "p")
        await pilot.press(*"chur")
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


def test_deploy_dialog(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        view = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "prod")
        screen = await open_action(pilot, "d")
        await pilot.press("down", "down", "down")  # the champion alias
        await wait_for(pilot, lambda: "prod: v1 → v2" in body(screen), "the champion's plan")
        await wait_for(pilot, lambda: screen.focused is not None, "the reason box")
        await pilot.press(*"champion since Monday", "enter", *"chur")
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


def test_gate_refusal(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await deck.runner.deploy("churn", "v3", "staging")
        view = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "staging")
        await open_action(pilot, "p")
        await pilot.press("y")  # no name box: nothing to confirm; y says why
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


def test_failed_deploy(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        build = await deck.runner.start_run("build", {"version": "3"})
        await deck.runner.wait_run(build.id)
        await deck.runner.deploy("api", f"r{build.id}", "dev")
        (deck.workspace.root / "fail_deploy").touch()
        view = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "dev")
        screen = await open_action(pilot, "p")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.phase == "done", "the deploy")
        await log_loaded(pilot)
        await pilot.press("escape")
        await go_to(pilot, view, "0:api", "staging")
        await wait_for(
            pilot,
            lambda: (
                getattr(
                    view.parts[0].data.service("api").last_action.get("staging"), "outcome", None
                )
                == Outcome.FAILED
            ),
            "the reload with the failed promote",
        )
        await wait_for(
            pilot,
            lambda: "failed" in str(view.query_one("#deploy-detail").render()),
            "the failure",
        )
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


def test_rollback_dialog(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        build = await deck.runner.start_run("build", {"version": "4"})
        await deck.runner.wait_run(build.id)
        await deck.runner.deploy("api", f"r{build.id}", "staging")
        view = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "staging")
        screen = await open_action(pilot, "b")
        assert isinstance(screen, ActionScreen)
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


def test_timeline(snap_compare: Any, deck: Deck) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        view = await open_view(pilot, "timeline")
        table = view.query_one(TimelineTable)

        def sized() -> bool:
            # The rows arrive before the table has measured them: a frame taken in between
            # has every column as narrow as its label.
            return max(column.content_width for column in table.columns.values()) > 20

        await wait_for(pilot, sized, "the columns sized to their rows")
        await settle(pilot)

    assert snap_compare(deck.app(), terminal_size=SMALL, run_before=run_before)


def test_two_runners_one_offline(snap_compare: Any, deck: Deck, far: RemoteRunner) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_view(pilot, "deployments")
        await wait_for(pilot, lambda: pilot.app.cockpit.connection_state(1) == "offline", "offline")
        await settle(pilot)

    assert snap_compare(deck.app(deck.runner, far), terminal_size=SMALL, run_before=run_before)


def test_runs_of_every_runner(snap_compare: Any, deck: Deck, lab: Any, far: RemoteRunner) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await wait_for(pilot, lambda: app.screen.fleet is not None, "the other runners")
        await wait_for(pilot, lambda: app.cockpit.connection_state(2) == "offline", "offline")
        await pilot.press("3")
        await settle(pilot)

    app = deck.app(deck.runner, lab, far)
    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_overview_of_every_runner(
    snap_compare: Any, deck: Deck, lab: Any, far: RemoteRunner
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await wait_for(pilot, lambda: app.screen.fleet is not None, "the other runners")
        await wait_for(pilot, lambda: app.cockpit.connection_state(2) == "offline", "offline")
        await settle(pilot)

    app = deck.app(deck.runner, lab, far)
    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)
