"""Timeline across runners (kind, window, words; enter jumps) and two runners with one of
them offline: the live one is shown in full, the offline one says so, nothing waits."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from shipdeck.runners.remote import RemoteRunner
from shipdeck.tui.screens.env_history import EnvHistoryScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.view_data.timeline import ItemKind
from shipdeck.tui.views.deployments import DeploymentsView, MatrixTable
from shipdeck.tui.views.models import ModelsView, VersionTable
from shipdeck.tui.views.timeline import TimelineView
from shipdeck.tui.widgets.grid import GridTable
from tests.tui.deck import Deck, finished, open_view, wait_for
from tests.tui.shown import row_keys


def texts(view: TimelineView) -> list[str]:
    table = view.query_one(GridTable)
    return [str(table.get_cell(key, "what")) for key in row_keys(table)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def offline() -> AsyncIterator[RemoteRunner]:
    runner = RemoteRunner(f"http://127.0.0.1:{closed_port()}", name="far")
    try:
        yield runner
    finally:
        await runner.close()


async def test_one_time_ordered_list_with_kind_window_and_words(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(110, 40)) as pilot:
        view: TimelineView = await open_view(pilot, "timeline")
        shown = texts(view)
        assert shown[0].startswith("✓ deploy churn staging v1 → v2")
        assert "✓ churn@champion ∅ → v2" in shown
        assert "✓ #1 build succeeded (1/1 tasks)" in shown
        assert "▸ #1 build started (test)" in shown
        assert not any("deploy:" in text for text in shown)  # deploy runs come as actions
        times = [item.at for item in view.items(app.cockpit.clock())]
        assert times == sorted(times, reverse=True)

        await pilot.press("K")  # runs only
        assert view.kind == ItemKind.RUN
        assert all(text[2:].startswith("#") for text in texts(view))
        await pilot.press("K", "K")  # promotions only
        assert texts(view) == ["✓ promote churn prod ∅ → v1", "✓ promote api staging ∅ → r1"]
        for _ in range(len(ItemKind) - 2):
            await pilot.press("K")
        assert view.kind is None

        await pilot.press("slash", *"churn prod", "enter")
        assert texts(view) == ["✓ promote churn prod ∅ → v1", "✓ health churn prod v1 ok"]
        assert view.close_filter()

        # Two days later, the default 24h window is empty; 7d shows it all again.
        assert view.window_index == 2
        moment = app.cockpit.clock() + timedelta(days=2)
        app.cockpit.clock = lambda: moment
        view.paint()
        assert texts(view) == []
        await pilot.press("w")  # 7d
        assert len(texts(view)) > 10


async def test_enter_jumps_to_the_run_or_the_environment(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(110, 40)) as pilot:
        view: TimelineView = await open_view(pilot, "timeline")
        await pilot.press("enter")  # the newest: a deploy to churn/staging
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        assert (app.screen.service, app.screen.env) == ("churn", "staging")  # type: ignore[attr-defined]
        await pilot.press("escape")
        await pilot.press("slash", *"#2 succ", "enter")
        assert len(texts(view)) == 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run")
        assert app.screen.run_id == "2"  # type: ignore[attr-defined]


async def test_two_runners_with_one_offline(deck: Deck, offline: RemoteRunner) -> None:
    app = deck.app(deck.runner, offline)
    started = time.monotonic()
    async with app.run_test(size=(110, 40)) as pilot:
        deployments: DeploymentsView = await open_view(pilot, "deployments")
        assert time.monotonic() - started < 10
        matrix = deployments.query_one(MatrixTable)
        assert matrix.row_keys == ["0:api", "0:churn"]
        assert "local" in str(matrix.get_cell("0:api", "service"))  # the runner, per row
        status = str(deployments.query_one("#deploy-status").render())
        assert "local ●" in status and "far ○" in status and "unreachable" in status

        await pilot.press("escape")
        timeline: TimelineView = await open_view(pilot, "timeline")
        table = timeline.query_one(GridTable)
        assert str(table.ordered_columns[0].label) == "runner"
        assert {str(table.get_cell(k, "runner")) for k in row_keys(table)} == {"local"}
        await pilot.press("slash", *"far")
        assert texts(timeline) == []

        models: ModelsView = await open_view(pilot, "models")
        assert models.query_one(VersionTable).row_count == 3
        assert "far ○" in str(models.query_one("#models-status").render())
        await wait_for(pilot, lambda: app.cockpit.connection_state(1) != "live", "far's state")


async def test_at_its_top_the_timeline_stays_on_the_newest_else_counts_the_newer(
    deck: Deck,
) -> None:
    """Left for another tab while runs finish: on return, a timeline that was at its top
    shows the newest first with the cursor on it; one that was further down keeps its row and
    says how many newer items are above the screen."""
    app = deck.app()
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("6")
        timeline = app.screen.query_one(TimelineView)
        await wait_for(pilot, lambda: timeline.parts, "the timeline")
        table = timeline.query_one(GridTable)
        table.focus()
        await pilot.press("1")
        for _ in range(6):
            newest = await finished(deck.runner, "build")
        await wait_for(pilot, lambda: texts(timeline)[0].startswith(f"✓ #{newest} "), "new runs")
        await pilot.press("6")
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_offset.y == 0
        assert table.selected_key == row_keys(table)[0]
        status = timeline.query_one("#timeline-status")
        assert "newer" not in str(status.render())

        for _ in range(20):  # well down the list, its top out of view
            await pilot.press("j")
        chosen = table.selected_key
        await pilot.pause()
        assert str(status.render()).startswith(f" {table.rows_above} newer ↑")
        await pilot.press("1")
        for _ in range(2):
            newest = await finished(deck.runner, "build")
        await wait_for(pilot, lambda: texts(timeline)[0].startswith(f"✓ #{newest} "), "more runs")
        await pilot.press("6")
        await pilot.pause()
        assert table.selected_key == chosen and table.cursor_row == 24
        await wait_for(pilot, lambda: "newer ↑" in str(status.render()), "the count")
        assert str(status.render()).startswith(f" {table.rows_above} newer ↑")
        assert table.rows_above > 0


async def test_ages_move_on_the_apps_clock_tick_in_every_view_shown(deck: Deck) -> None:
    """One app-wide tick (once a second) repaints relative times: the timeline, the overview,
    the runs list and an environment's history, without waiting for a reload."""
    from shipdeck.tui.screens.main import MainScreen
    from shipdeck.tui.widgets.table import KeyedTable

    app = deck.app()
    moment = [app.cockpit.clock()]
    app.cockpit.clock = lambda: moment[0]
    async with app.run_test(size=(110, 36)) as pilot:
        ticks: list[object] = []
        app.ticks.subscribe(app.screen, ticks.append)
        await wait_for(pilot, lambda: len(ticks) >= 2, "the app's own ticks")
        main = app.screen
        assert isinstance(main, MainScreen)

        def later(hours: int) -> None:
            moment[0] += timedelta(hours=hours)
            app.ticks.publish(moment[0])

        pipelines = main.query_one("#overview-pipelines", GridTable)
        await wait_for(pilot, lambda: pipelines.row_count, "the overview")
        age = str(pipelines.get_cell("build", "age"))
        later(5)
        await wait_for(pilot, lambda: str(pipelines.get_cell("build", "age")) != age, "overview")

        await pilot.press("3")
        runs = main.query_one("#runs-table", GridTable)
        await wait_for(pilot, lambda: runs.row_count, "the runs")
        started = str(runs.get_cell("1", "started"))
        later(24)
        await wait_for(pilot, lambda: str(runs.get_cell("1", "started")) != started, "runs")

        await pilot.press("6")
        timeline = main.query_one(TimelineView)
        await wait_for(pilot, lambda: timeline.parts, "the timeline")
        timeline.window_index = 4  # all: nothing ages out of the list
        timeline.paint()
        table = timeline.query_one(GridTable)
        first = row_keys(table)[-1]
        when = str(table.get_cell(first, "when"))
        later(48)
        await wait_for(pilot, lambda: str(table.get_cell(first, "when")) != when, "timeline")

        app.push_screen(EnvHistoryScreen(0, "api", "dev"))
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        screen = app.screen
        await wait_for(pilot, lambda: screen.query(KeyedTable), "the history")
        history = screen.query_one(KeyedTable)
        await wait_for(pilot, lambda: history.row_count, "the history rows")
        key = row_keys(history)[0]
        when = str(history.get_cell(key, "when"))
        later(24 * 7)
        await wait_for(pilot, lambda: str(history.get_cell(key, "when")) != when, "history")
