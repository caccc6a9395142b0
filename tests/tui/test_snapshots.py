"""SVG snapshots at 80x24 and 120x36: real demo runs, frozen clock and timestamps, fixed ids.

Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from shipdeck.model import RunStatus
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.tui import ShipdeckApp, create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.format import frozen_clock
from shipdeck.tui.frozen import FrozenTimes, frozen_now
from shipdeck.tui.screens.confirm import ConfirmScreen
from shipdeck.tui.screens.log import LogScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.widgets.dag import DagView
from shipdeck.tui.widgets.log_pane import LogPane
from shipdeck.tui.widgets.log_view import LogView
from shipdeck.workspace import load_workspace
from tests.tui.conftest import make_workspace, wait_for

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
OK_RUN, FAILED_RUN = "1", "2"


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
