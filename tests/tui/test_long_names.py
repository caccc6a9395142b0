"""Names may be any length: one long pipeline or task name must not push the other columns of
every row (status, history, last run) off an 80-column screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import ContentSwitcher

from shipdeck.runners.local import open_local_runner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.screens.log import LogScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.widgets.dag import DagView
from shipdeck.tui.widgets.table import KeyedTable
from shipdeck.workspace import load_workspace
from tests.tui.conftest import Demo, wait_for
from tests.tui.test_views import visible_text

LONG_PIPELINE = "nightly_" + "x" * 68 + "_rebuild"
LONG_TASK = "collect_" + "y" * 48 + "_stats"


def lines_with(screen: object, needle: str) -> list[str]:
    return [line for line in visible_text(screen).splitlines() if needle in line]


async def test_a_long_pipeline_name_leaves_every_row_its_status_at_80_columns(
    demo: Demo,
) -> None:
    assert len(LONG_PIPELINE) == 84
    with demo.workspace.file.open("a", encoding="utf-8") as file:
        file.write(f'\n[pipelines.{LONG_PIPELINE}.tasks.{LONG_TASK}]\nrun = "echo hi"\n')
    demo.workspace = load_workspace(demo.workspace.root)
    long_run = await demo.run(LONG_PIPELINE)
    ci = await demo.run("ci")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        await wait_for(
            pilot, lambda: lines_with(main, "nightly_xxx"), "the long pipeline on the overview"
        )
        for line in lines_with(main, "nightly_xxx") + lines_with(main, " ci "):
            assert "#" in line and "✓" in line, line  # last runs strip and last run

        switcher = main.query_one(ContentSwitcher)
        await pilot.press("2")
        await wait_for(pilot, lambda: switcher.current == "pipelines-view", "pipelines")
        await wait_for(pilot, lambda: lines_with(main, "nightly_xxx"), "the pipelines view")
        line = lines_with(main, "nightly_xxx")[0]
        assert f"#{long_run.run.id}" in line and "✓" in line, line

        await pilot.press("3")
        await wait_for(pilot, lambda: switcher.current == "runs-view", "runs")
        runs = main.query_one("#runs-table", KeyedTable)
        await wait_for(pilot, lambda: runs.row_count == 2, "the runs table")
        rows = [f"#{long_run.run.id} ", f"#{ci.run.id} "]
        await wait_for(pilot, lambda: all(lines_with(main, row) for row in rows), "both runs")
        for row in rows:
            (line,) = lines_with(main, row)
            assert " ok " in line and "ago" in line, line

        app.open_run(long_run.run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        run_screen = app.screen
        await wait_for(pilot, lambda: run_screen.query(DagView), "the DAG")
        await pilot.press("enter")
        await wait_for(pilot, lambda: run_screen.query(LogPane), "the log pane")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), "the log screen")
        log_screen = app.screen
        await wait_for(pilot, lambda: "hi" in visible_text(log_screen), "the log")
        header = visible_text(log_screen).splitlines()[0]
        assert f"run #{long_run.run.id} / collect_" in header
        assert "● live" in header, header


AFTER_LONG = f"""
[pipelines.{LONG_PIPELINE}.tasks.build]
run = "true"

[pipelines.publish]
on_success = ["{LONG_PIPELINE}"]

[pipelines.publish.tasks.push]
run = "true"
"""


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 40)], ids=str)
async def test_the_runs_list_clips_a_long_pipeline_name_in_every_column(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """`after nightly_x… #1` as `nightly_x…` in the pipeline column: cut with an ellipsis,
    never by the screen's edge, at 80 columns and wider."""
    (tmp_path / "shipdeck.toml").write_text(AFTER_LONG)
    workspace = load_workspace(tmp_path)
    seeder = await open_local_runner(workspace, user="op")
    try:
        scheduler = seeder.start_scheduling()
        await scheduler.tick()  # armed
        upstream = await seeder.wait_run((await seeder.start_run(LONG_PIPELINE)).id)
        [started] = await scheduler.tick()
        downstream = await seeder.wait_run(started.id)
    finally:
        await seeder.close()
    assert downstream.trigger == f"after {LONG_PIPELINE} #{upstream.id}"
    runner = await open_local_runner(workspace, user="op")
    try:
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=size) as pilot:
            main = app.screen
            await wait_for(pilot, lambda: isinstance(main, MainScreen), "the main screen")
            await pilot.press("3")
            runs = main.query_one("#runs-table", KeyedTable)
            await wait_for(pilot, lambda: runs.row_count == 2, "the runs table")
            row = f"#{downstream.id} "
            await wait_for(pilot, lambda: lines_with(main, row), "the downstream run")
            await pilot.pause()
            (line,) = lines_with(main, row)
            (above,) = lines_with(main, f"#{upstream.id} ")
            name = "nightly_xxxxxxxxxxxxxxx…"  # as the pipeline column shows it
            assert name in above and " publish " in line, (above, line)
            origin = line[line.index(" after ") :].strip()
            assert origin.startswith("after nightly_") and "…" in origin, line
            assert origin in f"after {name} #{upstream.id}" or origin.endswith("…"), origin
            assert len(line) <= size[0] - 2, line  # nothing runs into the edge (scrollbar)
    finally:
        await runner.close()
