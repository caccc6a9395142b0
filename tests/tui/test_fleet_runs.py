"""Overview and Runs with several runners: a runner column, every runner's runs merged, a
line per runner in the Overview, enter on another runner's run switches to it, and an
offline runner shown as such without holding up the others."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipdeck.runners.local import open_local_runner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.views.overview import OverviewView
from shipdeck.tui.widgets.grid import GridTable
from shipdeck.workspace import load_workspace
from tests.tui.deck import USER, Deck, DeckRunner, Ticker, finished, wait_for
from tests.tui.shown import row_keys


@pytest.fixture
async def lab(seeded: Path, tmp_path: Path) -> AsyncIterator[DeckRunner]:
    """A second live runner (its own copy of the workspace), named lab, with one more run."""
    root = tmp_path / "lab"
    shutil.copytree(seeded, root)
    runner = await open_local_runner(load_workspace(root), user=USER, name="lab", clock=Ticker())
    await finished(runner, "build", version="9")
    try:
        yield runner
    finally:
        await runner.close()


@pytest.fixture
async def far() -> AsyncIterator[RemoteRunner]:
    runner = RemoteRunner("http://127.0.0.1:9", name="far")
    try:
        yield runner
    finally:
        await runner.close()


async def test_runs_and_overview_show_every_runner(
    deck: Deck, lab: DeckRunner, far: RemoteRunner
) -> None:
    app = deck.app(deck.runner, lab, far)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.fleet is not None, "the other runners")
        runners = str(main.query_one(OverviewView).query_one("#overview-runners").render())
        assert "local" in runners and "lab" in runners
        assert "far" in runners and "offline" in runners

        await pilot.press("3")
        table = main.query_one("#runs-table", GridTable)
        await wait_for(pilot, lambda: table.row_count, "the runs")
        assert str(table.ordered_columns[0].label) == "runner"
        names = [str(table.get_cell(key, "runner")) for key in row_keys(table)]
        assert set(names) == {"local", "lab"}
        newest = row_keys(table)[0]
        assert newest.startswith("1:")  # lab's extra build is the newest run
        assert str(table.get_cell(newest, "pipeline")) == "build"

        table.move_cursor(row=0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "lab's run")
        assert app.cockpit.active == 1
        assert app.screen.run_id == newest.split(":")[1]  # type: ignore[attr-defined]
