"""Several runners in the Overview: every runner's failures, runs in progress and pipelines in
one place; rerun and cancel act on the runner the selected row belongs to (its preview names
it); a read-only runner refuses while the others act; one filter shared by the views."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from shipdeck.model import RunStatus
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.dialogs.confirm import ConfirmScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.widgets.grid import GridTable
from shipdeck.workspace import load_workspace
from tests.tui.deck import USER, Deck, DeckRunner, Ticker, wait_for
from tests.tui.shown import Notices, row_keys

EXTRA = """
[pipelines.flaky]
[pipelines.flaky.tasks.check]
run = "echo checking; exit 3"

[pipelines.slow]
[pipelines.slow.tasks.wait]
run = "sleep 60"
"""


async def open_lab(seeded: Path, tmp_path: Path) -> DeckRunner:
    """A second runner, lab: the seeded workspace plus a `flaky` and a `slow` pipeline."""
    from shipdeck.runners.local import open_local_runner

    root = tmp_path / "lab"
    shutil.copytree(seeded, root)
    with (root / "shipdeck.toml").open("a") as toml:
        toml.write(EXTRA)
    return await open_local_runner(load_workspace(root), user=USER, name="lab", clock=Ticker())


async def fail(runner: DeckRunner) -> str:
    """A `flaky` run, failed."""
    run = await runner.start_run("flaky", None, trigger="test")
    assert (await asyncio.wait_for(runner.wait_run(run.id), 30)).status == RunStatus.FAILED
    return run.id


@asynccontextmanager
async def slow_run(runner: DeckRunner) -> AsyncIterator[str]:
    """A `slow` run in progress on the runner, which is closed after."""
    slow = await runner.start_run("slow", None, trigger="test")
    try:
        yield slow.id
    finally:
        if not (await runner.run(slow.id)).run.status.finished:
            await runner.cancel(slow.id)
        await runner.close()


@pytest.fixture
async def lab(seeded: Path, tmp_path: Path) -> AsyncIterator[tuple[DeckRunner, str, str]]:
    """lab with a failed `flaky` run and a `slow` run in progress."""
    runner = await open_lab(seeded, tmp_path)
    failed = await fail(runner)
    async with slow_run(runner) as slow:
        yield runner, failed, slow


@pytest.fixture
async def slow_lab(seeded: Path, tmp_path: Path) -> AsyncIterator[tuple[DeckRunner, str]]:
    """lab with nothing failed and a `slow` run in progress."""
    runner = await open_lab(seeded, tmp_path)
    async with slow_run(runner) as slow:
        yield runner, slow


def rows(main: MainScreen, table_id: str) -> dict[str, dict[str, str]]:
    table = main.query_one(f"#{table_id}", GridTable)
    columns = [str(c.key.value) for c in table.ordered_columns]
    return {key: {c: str(table.get_cell(key, c)) for c in columns} for key in row_keys(table)}


async def overview(pilot: object, app: object) -> MainScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")  # type: ignore[arg-type,attr-defined]
    main = app.screen  # type: ignore[attr-defined]
    assert isinstance(main, MainScreen)
    await wait_for(pilot, lambda: main.fleet is not None, "every runner")  # type: ignore[arg-type]
    return main


def select(main: MainScreen, table_id: str, key: str) -> None:
    table = main.query_one(f"#{table_id}", GridTable)
    table.focus()
    table.move_cursor(row=row_keys(table).index(key))


async def test_overview_merges_every_runner_and_acts_on_the_rows_runner(
    deck: Deck, lab: tuple[DeckRunner, str, str]
) -> None:
    runner, failed, slow = lab
    app = deck.app(deck.runner, runner)
    async with app.run_test(size=(100, 36)) as pilot:
        main = await overview(pilot, app)
        await wait_for(pilot, lambda: f"1:{failed}" in rows(main, "overview-failures"), "lab")
        # local has no failure, so the cursor started on its pipelines; lab's failure, arriving
        # before any key was pressed, takes it: what needs attention, whichever runner.
        focused = app.focused
        assert isinstance(focused, GridTable) and focused.id == "overview-failures"
        assert focused.selected_key == f"1:{failed}"
        failures = rows(main, "overview-failures")
        assert failures[f"1:{failed}"]["runner"] == "lab"
        assert "check" in failures[f"1:{failed}"]["cause"]
        assert rows(main, "overview-running")[f"1:{slow}"]["pipeline"] == "slow"
        pipelines = rows(main, "overview-pipelines")
        assert {"0/build", "1/build", "1/flaky", "1/slow"} <= set(pipelines)
        assert "0/flaky" not in pipelines  # local's workspace has no such pipeline
        assert pipelines["1/flaky"]["runner"] == "lab"

        # Rerun lab's failure from the Overview while local is the active runner.
        assert app.cockpit.active == 0
        select(main, "overview-failures", f"1:{failed}")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the preview")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        preview = dialog.preview
        assert f"#{failed} on lab" in preview.title
        assert preview.items == ["check"]
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the new run")
        assert app.cockpit.active == 1
        new_id = app.screen.run_id  # type: ignore[attr-defined]
        new = await runner.run(new_id)
        assert new.run.parent_id == failed and new.run.pipeline == "flaky"
        assert (await deck.runner.runs(pipeline="flaky")) == []

        # Back on the overview (now on lab), cancel... local stays untouched.
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await wait_for(pilot, lambda: f"1:{slow}" in rows(main, "overview-running"), "slow")
        select(main, "overview-running", f"1:{slow}")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the cancel preview")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        preview = dialog.preview
        assert "on lab" in preview.title and "kill    wait" in preview.items
        await pilot.press("y")
        done = await asyncio.wait_for(runner.wait_run(slow), 20)
        assert done.status == RunStatus.CANCELLED


async def test_the_failure_is_focused_the_moment_its_row_shows(
    deck: Deck, lab: tuple[DeckRunner, str, str]
) -> None:
    """Rows and focus change together: no step of the event loop sees lab's failure listed
    while the cursor is still on local's pipelines (keys, and a test, would act there)."""
    runner, failed, _slow = lab
    app = deck.app(deck.runner, runner)
    async with app.run_test(size=(100, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "local's snapshot")
        # Looked at after every step of the event loop (no event fits: what is checked is
        # that no step sees a half-done change), not at a poll interval that may skip it.
        while f"1:{failed}" not in rows(main, "overview-failures"):  # noqa: ASYNC110
            await asyncio.sleep(0)
        focused = app.focused
        assert isinstance(focused, GridTable) and focused.id == "overview-failures"
        assert focused.selected_key == f"1:{failed}"


async def test_a_failure_known_later_takes_the_cursor_until_the_operator_moves(
    deck: Deck, slow_lab: tuple[DeckRunner, str]
) -> None:
    runner, slow = slow_lab
    app = deck.app(deck.runner, runner)
    async with app.run_test(size=(100, 36)) as pilot:
        main = await overview(pilot, app)
        await wait_for(pilot, lambda: f"1:{slow}" in rows(main, "overview-running"), "lab")
        focused = app.focused
        assert isinstance(focused, GridTable) and focused.id == "overview-running"

        # Hands off: a failure known a reload later takes the cursor from the running run.
        failed = await fail(runner)
        await wait_for(pilot, lambda: f"1:{failed}" in rows(main, "overview-failures"), "failed")
        focused = app.focused
        assert isinstance(focused, GridTable) and focused.id == "overview-failures"
        assert focused.selected_key == f"1:{failed}"

        # The operator moves to the running run: the next failure leaves the cursor there.
        await pilot.press("tab")
        await wait_for(pilot, lambda: app.focused is not focused, "the focus moved")
        moved_to = app.focused
        assert isinstance(moved_to, GridTable) and moved_to.id == "overview-running"
        again = await fail(runner)
        await wait_for(pilot, lambda: f"1:{again}" in rows(main, "overview-failures"), "again")
        assert app.focused is moved_to and moved_to.selected_key == f"1:{slow}"


async def test_a_read_only_runner_refuses_while_the_other_acts(
    deck: Deck, lab: tuple[DeckRunner, str, str]
) -> None:
    runner, failed, _slow = lab
    app = deck.app(deck.runner, runner, config=TuiConfig(read_only_runners={"lab"}))
    notices = Notices(app)
    async with app.run_test(size=(100, 36)) as pilot:
        main = await overview(pilot, app)
        await wait_for(pilot, lambda: f"1:{failed}" in rows(main, "overview-failures"), "lab")
        assert main.check_action("rerun", ()) is True  # local is writable: the keys show

        select(main, "overview-failures", f"1:{failed}")
        await pilot.press("r")
        await pilot.pause(0.2)
        assert isinstance(app.screen, MainScreen)
        assert any("read-only mode on lab" in str(n.message) for n in notices.shown)
        assert len(await runner.runs(pipeline="flaky")) == 1

        select(main, "overview-pipelines", "0/build")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "local's preview")
        assert "on local" in app.screen.preview.title  # type: ignore[attr-defined]


async def test_one_filter_shared_by_overview_runs_deployments_and_timeline(
    deck: Deck, lab: tuple[DeckRunner, str, str]
) -> None:
    runner, _failed, _slow = lab
    app = deck.app(deck.runner, runner)
    async with app.run_test(size=(100, 36)) as pilot:
        main = await overview(pilot, app)
        select(main, "overview-pipelines", "0/build")
        await pilot.press("slash", *"lab", "enter")
        await wait_for(
            pilot,
            lambda: (
                set(rows(main, "overview-pipelines"))
                == {f"1/{p}" for p in ("build", "train", "flaky", "slow")}
            ),
            "lab's pipelines only",
        )
        await pilot.press("3")
        await wait_for(pilot, lambda: rows(main, "runs-table"), "the runs")
        assert {r["runner"] for r in rows(main, "runs-table").values()} == {"lab"}

        await pilot.press("5")
        deployments = main.query_one("#deployments-view")
        await wait_for(pilot, lambda: len(deployments.parts) == 2, "the deployments")  # type: ignore[attr-defined]
        assert deployments.filter_words == ["lab"]  # type: ignore[attr-defined]
        await pilot.press("slash", "x", "y", "z", "enter")
        status = str(deployments.query_one("#deploy-status").render())
        assert "no service matches the filter" in status and "/xyz" in status  # replaced
        await pilot.press("escape")  # clears the filter everywhere
        await wait_for(pilot, lambda: main.filter_words == [], "the cleared filter")

        await pilot.press("3")
        await wait_for(
            pilot,
            lambda: {r["runner"] for r in rows(main, "runs-table").values()} == {"local", "lab"},
            "every runner's runs",
        )


async def test_fast_typing_in_a_shared_filter_settles(
    deck: Deck, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys typed faster than the app handles them queue several changes at once; sharing
    them must not echo back into the box they came from (that looped forever)."""
    from shipdeck.tui.views.filter import FilterChanged, FilterInput

    app = deck.app()
    async with app.run_test(size=(100, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the snapshot")
        await pilot.press("3", "1")  # Runs built too: two views share the filter
        announced: list[list[str]] = []
        original = MainScreen.on_filter_changed

        def counting(self: MainScreen, message: FilterChanged) -> None:
            announced.append(message.words)
            original(self, message)

        monkeypatch.setattr(MainScreen, "on_filter_changed", counting)
        box = main.query_one("#overview-view").query_one(FilterInput)
        box.value = "t"
        box.value = "tr"
        box.value = "tra"  # three changes queued before any is handled
        await pilot.pause(0.3)
        settled = len(announced)
        await pilot.pause(0.5)
        assert 1 <= len(announced) == settled <= 3
        assert box.value == "tra" and main.filter_words == ["tra"]
        runs_box = main.query_one("#runs-filter")
        assert runs_box.value == "tra"  # type: ignore[attr-defined]
