"""The Overview's failures and the Runs list over more runs than one page: nothing beyond the
newest 200 is lost, filters go to the runner, a failure streak is one row with its count,
and every failure says why. A real LocalRunner on a small workspace (real subprocesses)."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shipdeck.model import RerunMode, RunStatus
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.tui import create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.views.runs import PAGE, RunsView
from shipdeck.tui.widgets.table import KeyedTable
from shipdeck.workspace import load_workspace
from tests.tui.conftest import wait_for
from tests.tui.shown import row_keys

WORKSPACE = """
[pipelines.slow]
params = { n = 0 }
[pipelines.slow.tasks.nap]
run = "true"

[pipelines.tiny]
[pipelines.tiny.tasks.check]
run = "echo broken >&2; exit 4"

[pipelines.busy]
[pipelines.busy.tasks.work]
run = "true"

[pipelines.pair]
[pipelines.pair.tasks.side]
run = "echo side broke >&2; exit 5"
[pipelines.pair.tasks.first]
run = "true"
[pipelines.pair.tasks.second]
run = "true"
needs = ["first"]
"""


@dataclass
class Lists:
    runner: LocalRunner

    async def run(self, pipeline: str, params: dict[str, str] | None = None) -> str:
        run = await self.runner.start_run(pipeline, params, trigger="test")
        await asyncio.wait_for(self.runner.wait_run(run.id), 60)
        return run.id

    async def many(self, pipeline: str, count: int) -> list[str]:
        runs = [await self.runner.start_run(pipeline, trigger="test") for _ in range(count)]
        await asyncio.wait_for(asyncio.gather(*(self.runner.wait_run(r.id) for r in runs)), 120)
        return [r.id for r in runs]


@pytest.fixture
async def lists(tmp_path: Path) -> AsyncIterator[Lists]:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    runner = await open_local_runner(load_workspace(root), user="op")
    try:
        yield Lists(runner)
    finally:
        await runner.close()


def cells(main: MainScreen, table_id: str, key: str) -> list[str]:
    table = main.query_one(f"#{table_id}", KeyedTable)
    return [str(cell) for cell in table.get_row(key)]


async def test_old_runs_are_found_and_paged_in(lists: Lists) -> None:
    """/slow finds all 7 slow runs although 205 newer ones come first; the list holds a page,
    says how many of how many, and fetches the next page as the cursor nears its end."""
    slow = [await lists.run("slow", {"n": str(i)}) for i in range(7)]
    old_failure = await lists.run("tiny")
    await lists.many("busy", 205)
    app = create_app([lists.runner], config=TuiConfig())
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        failures = main.query_one("#overview-failures", KeyedTable)
        await wait_for(pilot, lambda: failures.row_count == 1, "the old failure")
        assert cells(main, "overview-failures", str(old_failure))[:2] == [
            f"✗ #{old_failure}",
            "tiny",
        ]

        await pilot.press("3")
        view = main.query_one(RunsView)
        table = main.query_one("#runs-table", KeyedTable)
        status = view.query_one("#runs-status")
        await wait_for(pilot, lambda: table.row_count == PAGE, "the first page")
        assert str(status.render()).strip() == f"{PAGE} of 213 runs"

        table.move_cursor(row=table.row_count - 1)
        await wait_for(pilot, lambda: table.row_count == 2 * PAGE, "the next page")
        assert str(status.render()).endswith(f" newer ↑  {2 * PAGE} of 213 runs")
        table.move_cursor(row=table.row_count - 1)
        await wait_for(pilot, lambda: table.row_count == 213, "the last page")
        assert table.selected_key == row_keys(table)[2 * PAGE - 1]  # the cursor stayed put

        await pilot.press("slash", *"slow")
        await wait_for(pilot, lambda: table.row_count == 7, "every slow run")
        assert list(row_keys(table)) == slow[::-1]
        assert str(status.render()).strip() == "7 of 7 runs  /slow"
        await pilot.press(*" n=3")  # a param: one of them
        await wait_for(pilot, lambda: row_keys(table) == [str(slow[3])], "the one with n=3")
        await pilot.press("enter")
        await pilot.press("escape")
        await pilot.press("slash", *"failed", "enter")  # a status word: the runner's status filter
        await wait_for(pilot, lambda: row_keys(table) == [str(old_failure)], "the failure")
        assert str(status.render()).strip() == "1 of 1 run  /failed"


async def test_a_failure_streak_is_one_row_with_its_count_and_every_cause_is_said(
    lists: Lists,
) -> None:
    """Six failures of one pipeline are one row (a count of 6, the newest), not five alike; a failed
    rerun in which none of its own tasks failed names the task it kept that did, never nothing."""
    tiny = [await lists.run("tiny") for _ in range(6)]
    pair = await lists.runner.start_run("pair", trigger="test")
    await lists.runner.wait_run(pair.id)
    # `side` failed and is kept: `second` (and nothing upstream of it) runs again and succeeds.
    rerun = await lists.runner.rerun(pair.id, RerunMode.FROM, from_task="second")
    done = await lists.runner.wait_run(rerun.id)
    assert done.status == RunStatus.FAILED
    app = create_app([lists.runner], config=TuiConfig())
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        failures = main.query_one("#overview-failures", KeyedTable)
        await wait_for(pilot, lambda: failures.row_count == 2, "two failing pipelines")
        assert row_keys(failures) == [str(rerun.id), str(tiny[-1])]
        assert cells(main, "overview-failures", str(tiny[-1]))[:4] == [
            f"✗ #{tiny[-1]}",
            "tiny",
            "\u00d76",
            "check: exit 4",
        ]
        assert cells(main, "overview-failures", str(rerun.id))[1:3] == ["pair", "\u00d72"]
        cause = cells(main, "overview-failures", str(rerun.id))[3]
        assert cause.startswith("side: ")  # the kept task that failed, clipped to the column


async def test_the_overview_says_loading_before_the_first_answer(lists: Lists) -> None:
    gate = asyncio.Event()
    original = lists.runner.failures

    async def slow_failures(*, limit: int = 20) -> object:
        await gate.wait()
        return await original(limit=limit)

    lists.runner.failures = slow_failures  # type: ignore[method-assign]
    app = create_app([lists.runner], config=TuiConfig())
    async with app.run_test(size=(100, 30)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.pause(0.3)
        empty = main.query_one("#failures-empty")
        assert str(empty.render()) == "loading…"
        assert str(main.query_one("#running-empty").render()) == "loading…"
        gate.set()
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        await pilot.pause()
        assert "Nothing failing" in str(empty.render())
        assert str(main.query_one("#running-empty").render()) == "Nothing running"


async def wait_for_running(runner: LocalRunner, run_id: str) -> None:
    for _ in range(500):
        detail = await runner.run(run_id)
        if any(t.status.value == "running" for t in detail.tasks):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the task never started")
