"""An open TUI on the workspace daemon follows shipdeck.toml: a pipeline added to the file
shows up by itself (the daemon sends a `config` event), with no ctrl+r."""

from __future__ import annotations

import contextlib
from pathlib import Path

from shipdeck.runners import daemon
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.tui.widgets.table import KeyedTable
from shipdeck.workspace import load_workspace
from tests.tui.conftest import wait_for
from tests.tui.shown import row_keys

WORKSPACE = """
[pipelines.build]
[pipelines.build.tasks.compile]
run = "true"
"""

ADDED = """
[pipelines.nightly]
[pipelines.nightly.tasks.report]
run = "true"
"""


async def test_a_pipeline_added_to_the_file_appears_in_the_open_tui(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(WORKSPACE)
    workspace = load_workspace(root)
    runner = await daemon.attach(workspace)
    try:
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(100, 30)) as pilot:
            main = app.screen
            assert isinstance(main, MainScreen)
            table = main.query_one("#overview-pipelines", KeyedTable)
            await wait_for(pilot, lambda: row_keys(table) == ["build"], "the declared pipeline")
            await pilot.pause(0.5)  # following the feed by now
            workspace.file.write_text(WORKSPACE + ADDED)
            await wait_for(pilot, lambda: row_keys(table) == ["build", "nightly"], "the new one")
    finally:
        await runner.close()
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)


async def test_a_broken_file_is_named_on_screen_until_it_is_fixed(tmp_path: Path) -> None:
    """While shipdeck.toml does not load, every screen's header says where and why in one
    line, and the views keep the last good configuration; fixed, the line goes."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(WORKSPACE)
    workspace = load_workspace(root)
    runner = await daemon.attach(workspace)
    try:
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(100, 30)) as pilot:
            main = app.screen
            assert isinstance(main, MainScreen)
            table = main.query_one("#overview-pipelines", KeyedTable)
            header = main.query_one(AppHeader)
            await wait_for(pilot, lambda: row_keys(table) == ["build"], "the declared pipeline")
            await pilot.pause(0.5)  # following the feed by now
            assert header.size.height == 1
            workspace.file.write_text(WORKSPACE + "[pipelines.broken\n")
            await wait_for(pilot, lambda: "⚠" in str(header.render()), "the notice")
            notice = str(header.render()).splitlines()[1]
            assert "shipdeck.toml:5: invalid TOML" in notice, notice
            assert "last good configuration in use, schedules and checks too" in notice
            await pilot.pause(0.1)
            assert header.size.height == 2 and row_keys(table) == ["build"]
            workspace.file.write_text(WORKSPACE + ADDED)
            await wait_for(pilot, lambda: row_keys(table) == ["build", "nightly"], "the fixed file")
            await wait_for(pilot, lambda: "⚠" not in str(header.render()), "the notice gone")
            await pilot.pause(0.1)
            assert header.size.height == 1
    finally:
        await runner.close()
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)
