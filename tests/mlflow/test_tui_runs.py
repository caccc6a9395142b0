"""The Runs view over an MLflow runner, which cannot count its runs: one page at a time,
"100 of 100+ runs" until the last page, and never every run on a refresh."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from shipdeck.runners.mlflow.api import MlflowApi
from shipdeck.runners.mlflow.runner import MlflowRunner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.views.runs import PAGE, RunsView
from shipdeck.tui.widgets.grid import KeyedTable
from tests.mlflow.conftest import MlflowServer
from tests.tui.deck import wait_for

pytestmark = pytest.mark.timeout(300)
RUNS = PAGE + 5


@pytest.fixture
async def mlflow_runner(mlflow_server: MlflowServer) -> AsyncIterator[MlflowRunner]:
    runner = MlflowRunner(MlflowApi(mlflow_server.url, name="lab"))
    try:
        yield runner
    finally:
        await runner.close()


async def test_runs_page_in_without_a_count(
    mlflow_server: MlflowServer, mlflow_runner: MlflowRunner
) -> None:
    word = f"w{uuid.uuid4().hex[:8]}"
    experiment = mlflow_server.post("experiments/create", {"name": word})["experiment_id"]
    for index in range(RUNS):
        mlflow_server.post(
            "runs/create",
            {"experiment_id": experiment, "run_name": f"{word}-{index}", "start_time": index},
        )
    app = create_app([mlflow_runner], config=TuiConfig())
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("3")
        view = main.query_one(RunsView)
        table = main.query_one("#runs-table", KeyedTable)
        status = view.query_one("#runs-status")
        view.set_filter(word)
        await wait_for(pilot, lambda: table.row_count == PAGE, "the first page")
        await wait_for(pilot, lambda: "+" in str(status.render()), "the status")
        assert str(status.render()).strip() == f"{PAGE} of {PAGE}+ runs  /{word}"
        table.move_cursor(row=table.row_count - 1)
        await wait_for(pilot, lambda: table.row_count == RUNS, "the next page")
        await wait_for(pilot, lambda: "+" not in str(status.render()), "the count")
        assert str(status.render()).strip().endswith(f"{RUNS} of {RUNS} runs  /{word}")
