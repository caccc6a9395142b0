"""The Runs list counts a run's tasks as the run view's header does: a skipped task is not
done (`3/5`, where the header says `3/5 done · 2 skipped`). A real LocalRunner."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from rich.text import Text

from shipdeck.runners.local import open_local_runner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.widgets.table import KeyedTable
from shipdeck.workspace import load_workspace
from tests.tui.conftest import wait_for

WORKSPACE = """
[pipelines.chain.tasks.a]
run = "true"
[pipelines.chain.tasks.b]
run = "true"
[pipelines.chain.tasks.c]
run = "exit 3"
[pipelines.chain.tasks.d]
run = "true"
needs = ["c"]
[pipelines.chain.tasks.e]
run = "true"
needs = ["d"]
"""


async def test_the_runs_list_does_not_count_skipped_tasks_as_done(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text(WORKSPACE)
    runner = await open_local_runner(load_workspace(tmp_path), user="op")
    try:
        run = await runner.start_run("chain", trigger="test")
        await asyncio.wait_for(runner.wait_run(run.id), 60)
        assert (await runner.run(run.id)).tally() == "3/5 done · 2 skipped"
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            table = app.screen.query_one("#runs-table", KeyedTable)
            await wait_for(pilot, lambda: table.row_count == 1, "the run")
            cell = table.get_cell(run.id, "tasks")
            assert (cell.plain if isinstance(cell, Text) else cell) == "3/5"
    finally:
        await runner.close()


async def test_a_store_written_before_counts_its_runs_again(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text(WORKSPACE)
    workspace = load_workspace(tmp_path)
    runner = await open_local_runner(workspace, user="op")
    try:
        run = await runner.start_run("chain", trigger="test")
        await asyncio.wait_for(runner.wait_run(run.id), 60)
    finally:
        await runner.close()
    path = tmp_path / ".shipdeck" / "shipdeck.db"
    with sqlite3.connect(path) as db:  # as an older shipdeck recorded it: every task finished
        db.execute("UPDATE runs SET tasks_done = 5")
        db.execute("UPDATE meta SET value = '7' WHERE key = 'runs_schema'")
    runner = await open_local_runner(workspace, user="op")
    try:
        assert (await runner.run(run.id)).run.tasks_done == 3
    finally:
        await runner.close()
