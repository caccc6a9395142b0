"""End and Home (and G and g, as in the log view) go to the last and first row of every kind
of list: the keyed tables (Overview, Pipelines, Runs, environment history), the virtual table
(Models, compare) and the Deployments matrix."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult

from shipdeck.runners.local import open_local_runner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.views.deployments import MatrixTable
from shipdeck.tui.widgets.table import KeyedTable
from shipdeck.tui.widgets.virtual_table import VirtualTable
from shipdeck.workspace import load_workspace
from tests.tui.conftest import wait_for
from tests.tui.screen_text import screen_lines

WORKSPACE = """
[pipelines.quick.tasks.only]
run = "true"
"""


async def test_end_and_home_in_the_runs_list(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text(WORKSPACE)
    runner = await open_local_runner(load_workspace(tmp_path), user="op")
    try:
        for _ in range(5):
            run = await runner.start_run("quick", trigger="test")
            await asyncio.wait_for(runner.wait_run(run.id), 60)
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("3")
            table = app.screen.query_one("#runs-table", KeyedTable)
            await wait_for(pilot, lambda: table.row_count == 5, "the runs")
            table.focus()
            await pilot.pause()
            for key, row in [("end", 4), ("home", 0), ("G", 4), ("g", 0)]:
                await pilot.press(key)
                assert table.cursor_row == row, key
    finally:
        await runner.close()


class Lists(App[None]):
    def compose(self) -> ComposeResult:
        yield VirtualTable([("name", "name")], id="virtual")
        yield MatrixTable(id="matrix")


async def test_end_and_home_in_the_virtual_table_and_the_matrix() -> None:
    app = Lists()
    async with app.run_test(size=(80, 40)) as pilot:
        virtual = app.query_one(VirtualTable)
        virtual.set_static_rows([("name", "name")], [(f"v{i}", [f"v{i}"]) for i in range(30)])
        matrix = app.query_one(MatrixTable)
        rows = [(f"svc{i}", [Text(f"svc{i}"), Text("r1")]) for i in range(6)]
        matrix.fill(["prod"], [Text("service"), Text("prod")], rows)
        await pilot.pause()
        for table, last in [(virtual, 29), (matrix, 5)]:
            table.focus()
            await pilot.pause()
            for key, row in [("end", last), ("home", 0), ("G", last), ("g", 0)]:
                await pilot.press(key)
                assert table.cursor_row == row, (type(table).__name__, key)


MANY = "\n".join(f'[pipelines.p{i:02d}.tasks.only]\nrun = "true"\n' for i in range(30))


async def test_the_last_row_is_on_screen_after_end_in_every_long_list(tmp_path: Path) -> None:
    """A list taller than its view scrolls its last row into sight: G (or end) leaves the
    cursor on a row the operator can see, above the footer, in each view at 80x24."""
    (tmp_path / "shipdeck.toml").write_text(MANY)
    runner = await open_local_runner(load_workspace(tmp_path), user="op")
    try:
        for i in range(30):
            run = await runner.start_run(f"p{i:02d}", trigger="test")
            await asyncio.wait_for(runner.wait_run(run.id), 60)
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(80, 24)) as pilot:
            # (view key, table, the text of its last row's first cell)
            for view, selector, last in [
                ("3", "#runs-table", "#1 "),
                ("2", "#pipelines-table", "p29"),
                ("1", "#overview-pipelines", "p29"),
                ("6", "#timeline-table", ""),
            ]:
                await pilot.press(view)
                table = app.screen.query_one(selector, KeyedTable)
                await wait_for(pilot, lambda t=table: t.row_count >= 30, f"the rows of {view}")
                table.focus()
                await pilot.pause()
                for key in ("G", "home", "end"):
                    await pilot.press(key)
                    await pilot.pause()
                    if key == "home":
                        continue
                    assert table.cursor_row == table.row_count - 1, (view, key)
                    shown_at = table.region.y + 1 + table.cursor_row - round(table.scroll_offset.y)
                    bottom = min(table.parent.region.bottom, app.size.height - 1)  # type: ignore[union-attr]
                    assert shown_at < bottom, (view, key, shown_at, bottom)
                    body = screen_lines(app)[:-1]  # the footer is the last line
                    assert not last or any(line.lstrip().startswith(last) for line in body), (
                        view,
                        key,
                        "\n".join(body),
                    )
    finally:
        await runner.close()
