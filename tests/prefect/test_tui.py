"""The cockpit with a Prefect runner beside a local one (Pilot): the Overview lists both, the
Runs view merges their runs, a flow run's view draws its task graph from Prefect, and its
task's log opens and reads; with the Prefect server gone, the Prefect runner shows offline
while the local runner goes on, and shows live again once the server is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from shipdeck.runners.prefect.mapping import FLOW_TASK
from shipdeck.runners.prefect.runner import PrefectRunner
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.views.overview import OverviewView
from shipdeck.tui.widgets.dag import DagView
from shipdeck.tui.widgets.grid import GridTable
from shipdeck.tui.widgets.header import AppHeader
from tests.prefect.conftest import PrefectServer, free_port, start_prefect
from tests.prefect.test_runner import settled
from tests.tui.deck import Deck, deck, seeded, wait_for  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
async def orchestra(prefect_server: PrefectServer) -> AsyncIterator[PrefectRunner]:
    runner = PrefectRunner(prefect_server.url, name="orchestra", poll_interval=0.5)
    try:
        yield runner
    finally:
        await runner.close()


def overview_runners(main: MainScreen) -> str:
    return str(main.query_one(OverviewView).query_one("#overview-runners").render())


async def test_overview_runs_run_view_and_log_of_a_prefect_run(
    deck: Deck,  # noqa: F811 (the fixture imported above)
    orchestra: PrefectRunner,
) -> None:
    run = await orchestra.start_run("etl/nightly", {"rows": "3"})
    await orchestra.wait_run(run.id)
    detail = await settled(orchestra, run.id)
    extract = next(task.name for task in detail.tasks if task.name.startswith("extract"))
    app = deck.app(deck.runner, orchestra)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: "orchestra" in overview_runners(main), "orchestra")
        assert "offline" not in overview_runners(main)

        await pilot.press("3")
        table = main.query_one("#runs-table", GridTable)
        await wait_for(
            pilot,
            lambda: any(str(table.get_cell(key, "runner")) == "orchestra" for key in table.rows),
            "orchestra's runs",
        )
        pipelines = {
            str(table.get_cell(key, "pipeline"))
            for key in table.rows
            if str(table.get_cell(key, "runner")) == "orchestra"
        }
        assert "etl/nightly" in pipelines

        app.open_run_on(1, run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        screen = app.screen
        await wait_for(pilot, lambda: screen.query(DagView), "the task graph")
        dag = screen.query_one(DagView)
        assert set(dag.tasks) == {task.name for task in detail.tasks}
        assert FLOW_TASK in dag.tasks
        summary = screen.query_one("#run-summary")
        await wait_for(pilot, lambda: run.label in str(summary.render()), "the run's label")
        assert "etl/nightly" in str(summary.render())

        dag.selected = extract
        await wait_for(
            pilot,
            lambda: screen.query(LogPane) and screen.query_one(LogPane).task_name == extract,
            "the task's log",
        )
        view = screen.query_one(LogPane).view
        await wait_for(pilot, lambda: view.buffer.total > 0, "the log's lines")
        texts = [view.buffer.line(n) for n in range(view.buffer.total)]
        assert "extracting 3 rows" in [line.text for line in texts if line is not None]


async def test_prefect_offline_while_local_goes_on_then_back(
    deck: Deck,  # noqa: F811 (the fixture imported above)
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    port = free_port()
    root = tmp_path_factory.mktemp("spare")
    server = await asyncio.to_thread(start_prefect, root, port)
    spare = PrefectRunner(server.url, name="spare", poll_interval=0.3, timeout=2.0)
    app = deck.app(deck.runner, spare)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
            main = app.screen
            assert isinstance(main, MainScreen)
            await wait_for(pilot, lambda: "spare" in overview_runners(main), "spare")
            await wait_for(pilot, lambda: app.cockpit.connection_state(1) == "live", "spare live")

            await asyncio.to_thread(server.stop)
            await wait_for(
                pilot,
                lambda: app.cockpit.connection_state(1) in ("reconnecting", "offline"),
                "offline",
            )
            # The local runner goes on: a run started now finishes and shows.
            local = await deck.runner.start_run("build")
            await deck.runner.wait_run(local.id)
            assert app.cockpit.connection_state(0) == "live"

            server = await asyncio.to_thread(start_prefect, root, port)
            await wait_for(pilot, lambda: app.cockpit.connection_state(1) == "live", "spare back")
    finally:
        await spare.close()
        await asyncio.to_thread(server.stop)


async def test_the_graph_grows_while_the_flow_runs(
    deck: Deck,  # noqa: F811 (the fixture imported above)
    orchestra: PrefectRunner,
) -> None:
    """Opened before Prefect knows any task, the run view draws the tasks as they run, says
    it knows them "so far", and stops saying so once the run has ended."""
    app = deck.app(deck.runner, orchestra)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: "orchestra" in overview_runners(main), "the Overview")
        run = await orchestra.start_run("etl/nightly", {"slow": "2"})
        app.open_run_on(1, run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        screen = app.screen
        await wait_for(pilot, lambda: screen.query(DagView), "the task graph")

        def summary() -> str:
            return str(screen.query_one("#run-summary").render())

        def drawn() -> set[str]:
            # The graph is drawn anew as it grows: between two drawings there is none.
            dags = screen.query(DagView)
            return {name.rsplit("-", 1)[0] for name in dags.first().tasks} if dags else set()

        every = {FLOW_TASK, "extract", "transform_a", "transform_b", "load"}
        await wait_for(pilot, lambda: " done" in summary(), "the summary")
        # Only what ran so far: the flow's own node, and whichever task has started by now
        # (the served flow may pick the run up before the view has read it).
        await wait_for(pilot, lambda: FLOW_TASK in drawn(), "the flow's node")
        assert drawn() < every
        assert "so far" in summary()
        await wait_for(pilot, lambda: drawn() == every, "every task")
        await wait_for(pilot, lambda: "so far" not in summary(), "the run's end")


async def test_a_run_view_names_the_run_while_it_loads_and_shows_cancelling_then_cancelled(
    deck: Deck,  # noqa: F811 (the fixture imported above)
    orchestra: PrefectRunner,
    prefect_server: PrefectServer,
) -> None:
    """Opened by its id alone, the view says "loading" (never the flow run's UUID) until it
    has the run's name; a cancel shows as cancelling (its own glyph and word), then cancelled."""
    run = await orchestra.start_run("etl/nightly", {"slow": "120"})
    app = deck.app(deck.runner, orchestra)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        app.open_run_on(1, run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        screen = app.screen

        def summary() -> str:
            return str(screen.query_one("#run-summary").render())

        def header() -> str:
            return screen.query_one(AppHeader).title_text

        await wait_for(pilot, lambda: screen.query("#run-summary"), "the summary")
        assert run.id not in summary() and run.id not in header()
        assert "loading" in summary()
        await wait_for(pilot, lambda: run.label in summary(), "the run's name")
        assert header() == f"run {run.label}" and run.id not in summary()

        app.open_run_on(1, run.id, label=run.label, replace=True)
        await wait_for(pilot, lambda: app.screen is not screen, "the view again")
        again = app.screen
        await wait_for(pilot, lambda: again.query("#run-summary"), "the summary")
        assert run.label in str(again.query_one("#run-summary").render())

        await asyncio.to_thread(prefect_server.wait_run, run.id, final=False)
        await orchestra.cancel(run.id)
        screen = again
        await wait_for(pilot, lambda: "⊖ cancelling" in summary(), "cancelling")
        # The served flow's process stops within its 30 s grace (a task thread sleeping).
        deadline = time.monotonic() + 120
        while "⊘ cancelled" not in summary():
            assert time.monotonic() < deadline, summary()
            assert "running" not in summary()
            await pilot.pause(0.1)
