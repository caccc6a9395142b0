"""The run view's header line counts what ran: a failed run's skipped tasks are not done; a
read of the run answered after newer events never paints the run as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Static

from shipdeck.model import RunDetail, RunEvent, RunStatus
from shipdeck.runners.delegating import DelegatingRunner
from shipdeck.runners.local import open_local_runner
from shipdeck.runners.protocol import Runner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.main import MainScreen
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


class HeldReads(DelegatingRunner):
    """Once armed, answers the reads of a run after the first only when released, each as
    it was when read: the second on `release`, the later ones on `release_rest`."""

    def __init__(self, inner: Runner) -> None:
        super().__init__(inner)
        self.armed: str | None = None
        self.reads = 0
        self.holding = asyncio.Event()
        self.release = asyncio.Event()
        self.release_rest = asyncio.Event()
        self.rest_asked = asyncio.Event()

    async def run(self, run_id: str) -> RunDetail:
        detail = await self.inner.run(run_id)
        if run_id == self.armed:
            self.reads += 1
            if self.reads == 2:
                self.holding.set()
                await self.release.wait()
            elif self.reads > 2:
                self.rest_asked.set()
                await self.release_rest.wait()
        return detail


async def test_a_read_answered_after_the_cancel_does_not_show_the_run_running(
    tmp_path: Path,
) -> None:
    (tmp_path / "shipdeck.toml").write_text('[pipelines.slow.tasks.wait]\nrun = "sleep 60"\n')
    local = await open_local_runner(load_workspace(tmp_path), user="op")
    runner = HeldReads(local)
    try:
        after = await local.last_seq()
        run = await local.start_run("slow", trigger="test")
        started: list[RunEvent] = []
        while not started:
            page = await local.wait_events(after, wait=5.0)
            after = page.last_seq
            started += [
                e
                for e in page.events
                if isinstance(e, RunEvent) and e.data.status is RunStatus.RUNNING
            ]
        app = create_app([runner], config=TuiConfig())  # type: ignore[list-item]
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
            main = app.screen
            assert isinstance(main, MainScreen)
            await wait_for(pilot, lambda: main.snapshot is not None, "the snapshot")
            runner.armed = run.id
            app.open_run(run.id)
            # The view loads (read 1), then reads once more (read 2): held, as it was, running.
            await asyncio.wait_for(runner.holding.wait(), 10)
            screen = app.screen
            assert isinstance(screen, RunScreen)

            def summary() -> str:
                return str(screen.query_one("#run-summary", Static).render())

            assert "running" in summary()
            assert (await local.cancel(run.id)).status is RunStatus.CANCELLED
            await wait_for(pilot, lambda: "cancelled" in summary(), "the cancel's event")
            runner.release.set()  # read 2 answers now, older than the events since
            # The view reads again after it (the run ended meanwhile): held, so what read 2
            # left on screen stays there to be seen.
            await asyncio.wait_for(runner.rest_asked.wait(), 10)
            assert "running" not in summary(), summary()
            assert "cancelled" in summary()
            runner.release_rest.set()
            await wait_for(pilot, lambda: screen.detail.run.status is RunStatus.CANCELLED, "read 3")
            assert "cancelled" in summary()
    finally:
        await local.close()
