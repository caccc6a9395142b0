"""The run view's header line counts what ran: a failed run's skipped tasks are not done."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from shipdeck.runners.local import open_local_runner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.run import RunScreen
from shipdeck.workspace import load_workspace
from tests.tui.conftest import wait_for

WORKSPACE = """
[pipelines.chain.tasks.fetch]
run = "true"
[pipelines.chain.tasks.lint]
run = "true"
[pipelines.chain.tasks.build]
run = "exit 3"
needs = ["fetch"]
[pipelines.chain.tasks.test]
run = "true"
needs = ["build"]
[pipelines.chain.tasks.ship]
run = "true"
needs = ["test"]
"""


async def test_a_failed_run_says_how_many_tasks_were_skipped(tmp_path: Path) -> None:
    (tmp_path / "shipdeck.toml").write_text(WORKSPACE)
    runner = await open_local_runner(load_workspace(tmp_path), user="op")
    try:
        run = await runner.start_run("chain", trigger="test")
        await runner.wait_run(run.id)
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(80, 24)) as pilot:
            app.open_run(run.id)
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, RunScreen) and app.screen.detail is not None,
                "the run view",
            )
            await pilot.pause(0.05)
            summary = str(app.screen.query_one("#run-summary", Static).render())
            assert "3/5 done · 2 skipped" in summary, summary
            assert "5/5" not in summary
    finally:
        await runner.close()
