"""A list's columns as drawn are as wide as their widest cell, however a frame falls: the
Runs list on a real LocalRunner (real subprocesses, SQLite), with a frame drawn right after
every paint, before the table's next idle, when DataTable would measure the new rows."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot

from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.testing.frozen import frozen_clock
from shipdeck.tui import ShipdeckApp, create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.views.runs import RunsView
from shipdeck.tui.widgets.table import KeyedTable
from shipdeck.workspace import load_workspace
from tests.tui.conftest import wait_for
from tests.tui.screen_text import screen_lines
from tests.tui.shown import row_keys

WORKSPACE = """
[pipelines.tiny]
[pipelines.tiny.tasks.check]
run = "true"

[pipelines.deploy-api-service]
[pipelines.deploy-api-service.tasks.push]
run = "exit 3"
"""
LONG = "deploy-api-service"


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[LocalRunner]:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    runner = await open_local_runner(load_workspace(root), user="op")
    try:
        yield runner
    finally:
        await runner.close()


async def finish(runner: LocalRunner, pipeline: str) -> str:
    run = await runner.start_run(pipeline, trigger="test")
    await asyncio.wait_for(runner.wait_run(run.id), 60)
    return run.id


def drawn_rows(app: ShipdeckApp) -> dict[str, str]:
    """The Runs list's lines on screen by run label, and the header under "header"."""
    lines = screen_lines(app)
    rows = {"header": next(line for line in lines if line.lstrip().startswith("run "))}
    for line in lines:
        first = line.split()[0] if line.split() else ""
        if first.startswith("#"):
            rows[first] = line
    return rows


def assert_fully_drawn(app: ShipdeckApp, wide: str, narrow: str) -> None:
    rows = drawn_rows(app)
    header, wide_row, narrow_row = rows["header"], rows[wide], rows[narrow]
    assert f" {LONG} " in wide_row and " ✗ failed " in wide_row, rows
    # Every line is laid out on the same columns as the header.
    for line in (wide_row, narrow_row):
        assert line.index(" tiny " if line is narrow_row else f" {LONG} ") == header.index(
            " pipeline "
        ), rows
        status = "✓ ok" if line is narrow_row else "✗ failed"
        assert line.index(f" {status} ") == header.index(" status "), rows


async def test_a_frame_drawn_before_the_table_measured_new_rows_is_redrawn_to_their_width(
    runner: LocalRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wider run arriving while the list is shown: a frame drawn between the paint and the
    table's measuring (the screen and the table each take their turn) must not leave the
    header and rows at the old widths, cut (`deploy-a`, `✗ fail`), in every later frame."""
    short = await finish(runner, "tiny")
    app = create_app(
        [runner], config=TuiConfig(), clock=frozen_clock(datetime.now(UTC) + timedelta(minutes=150))
    )
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        await pilot.press("3")
        view = main.query_one(RunsView)
        table = main.query_one("#runs-table", KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 1, "the first run")
        await pilot.pause()

        paint = view.paint

        def paint_then_draw() -> None:
            paint()
            app.export_screenshot()  # the screen draws before the table's next idle

        monkeypatch.setattr(view, "paint", paint_then_draw)
        wide = await finish(runner, LONG)
        await wait_for(pilot, lambda: row_keys(table) == [wide, short], "the wide run")
        await settle(pilot)
        assert_fully_drawn(app, f"#{wide}", f"#{short}")
        for column in table.columns.values():
            widest = max(len(str(cell)) for cell in table.get_column(column.key))
            assert column.content_width == max(widest, len(str(column.label)))

        await pilot.press("j")  # the cursor's rows are drawn again; the others must match them
        await settle(pilot)
        assert_fully_drawn(app, f"#{wide}", f"#{short}")


async def settle(pilot: Pilot[int]) -> None:
    for _ in range(3):
        await pilot.pause(0.05)
