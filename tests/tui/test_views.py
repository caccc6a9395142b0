"""Overview, tabs, run view and DAG navigation, driven by keys against a real runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import ContentSwitcher

from shipdeck.model import EventPage, RunStatus, TaskStatus
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
from tests.tui.conftest import Demo, make_workspace, wait_for
from tests.tui.screen_text import screen_text


def visible_text(screen: object) -> str:
    """Every line the screen currently shows, as plain text."""
    from textual.screen import Screen

    assert isinstance(screen, Screen) and screen is screen.app.screen
    return screen_text(screen.app)


async def test_overview_puts_the_failure_first_and_reaches_its_log_in_two_keys(
    demo: Demo,
) -> None:
    ok = await demo.run("ci")
    failed = await demo.run("train", flaky="true")
    assert failed.run.status == RunStatus.FAILED
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        failures = main.query_one("#overview-failures", KeyedTable)
        await wait_for(pilot, lambda: failures.has_focus, "focus on the failures")
        assert failures.selected_key == str(failed.run.id)
        pipelines = main.query_one("#overview-pipelines", KeyedTable)
        assert [str(pipelines.get_row_at(i)[0]) for i in range(2)] == ["ci", "train"]
        history = str(pipelines.get_row_at(1)[1])
        assert history.endswith("✗"), history
        assert str(pipelines.get_row_at(0)[1]).endswith("✓")
        assert f"#{ok.run.id}" in str(pipelines.get_row_at(0)[2])
        await wait_for(
            pilot, lambda: "train_b: exit 1" in visible_text(app.screen), "the failure's cause"
        )

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        run_screen = app.screen
        assert isinstance(run_screen, RunScreen)
        await wait_for(pilot, lambda: run_screen.query(DagView), "the DAG")
        assert run_screen.selected_task == "train_b"
        await wait_for(pilot, lambda: run_screen.query(LogPane), "the log pane")

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), "the log screen")
        await wait_for(
            pilot,
            lambda: "checkpoint upload failed" in visible_text(app.screen),
            "the error on screen",
        )


async def test_number_keys_switch_views_from_anywhere(demo: Demo) -> None:
    detail = await demo.run("ci")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        switcher = main.query_one(ContentSwitcher)
        await pilot.press("2")
        await wait_for(pilot, lambda: switcher.current == "pipelines-view", "pipelines")
        await pilot.press("3")
        await wait_for(pilot, lambda: switcher.current == "runs-view", "runs")
        runs = main.query_one("#runs-table", KeyedTable)
        await wait_for(pilot, lambda: runs.row_count == 1, "the runs table")
        assert runs.has_focus
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        assert app.screen.run_id == detail.run.id  # type: ignore[attr-defined]
        await pilot.press("1")
        assert app.screen is main
        await wait_for(pilot, lambda: switcher.current == "overview-view", "overview")
        await pilot.press("escape")  # nothing to go back to: stays put
        assert app.screen is main


async def test_dag_moves_between_tasks_with_hjkl_and_arrows(demo: Demo) -> None:
    detail = await demo.run("train")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_run(detail.run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await wait_for(pilot, lambda: screen.query(DagView), "the DAG")
        dag = screen.query_one(DagView)
        assert dag.has_focus
        assert dag.selected == "prepare"  # all succeeded: the first task
        moves = [
            ("l", "train_a"),
            ("j", "train_b"),
            ("k", "train_a"),
            ("right", "evaluate"),
            ("l", "report"),
            ("l", "report"),
            ("h", "evaluate"),
            ("left", "train_a"),
            ("down", "train_b"),
            ("up", "train_a"),
        ]
        for key, expected in moves:
            await pilot.press(key)
            assert dag.selected == expected, key
        await wait_for(
            pilot, lambda: screen.query_one(LogPane).task_name == "train_a", "the log to follow"
        )


async def test_run_view_updates_live_from_events(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=(120, 36)) as pilot:
        run = await demo.runner.start_run("chatty", {"lines": "30"}, trigger="test")
        app.open_run(run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await wait_for(pilot, lambda: screen.query(DagView), "the DAG")
        dag = screen.query_one(DagView)

        def status(task: str) -> TaskStatus | None:
            current = dag.tasks.get(task)
            return current.status if current else None

        await wait_for(pilot, lambda: status("talk") == TaskStatus.RUNNING, "talk running")
        assert dag.selected == "talk"
        await wait_for(pilot, lambda: screen.query(LogPane), "the log pane")
        pane = screen.query_one(LogPane)
        await wait_for(pilot, lambda: pane.view.buffer.total == 30, "the live tail in the pane")
        assert pane.view.follow
        assert status("after") == TaskStatus.PENDING
        demo.gate.touch()
        await wait_for(pilot, lambda: status("after") == TaskStatus.SUCCEEDED, "after done")
        await wait_for(
            pilot,
            lambda: screen.detail is not None and screen.detail.run.status == RunStatus.SUCCEEDED,
            "the run to succeed",
        )
        assert "succeeded" in visible_text(screen) or "ok" in visible_text(screen)


async def test_overview_shows_a_run_in_progress(demo: Demo) -> None:
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        run = await demo.runner.start_run("chatty", None, trigger="test")
        running = main.query_one("#overview-running", KeyedTable)
        await wait_for(pilot, lambda: running.row_count == 1, "the running row")
        await wait_for(
            pilot, lambda: "talk" in str(running.get_row_at(0)[4]), "the running task name"
        )
        assert str(running.get_row_at(0)[2]).endswith("0/2")
        demo.gate.touch()
        await demo.runner.wait_run(run.id)
        await wait_for(pilot, lambda: running.row_count == 0, "the run to leave the list")


async def test_q_goes_back_like_a_pager_and_shift_q_quits_leaving_runs_running(
    demo: Demo,
) -> None:
    """q in the log and run views goes back (as in less); on the main screen it quits; `Q`
    quits from any view at once, and quitting never touches a running run."""
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        run = await demo.runner.start_run("chatty", None, trigger="test")
        app.open_run(run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await wait_for(pilot, lambda: screen.query(DagView), "the DAG")
        dag = screen.query_one(DagView)
        await wait_for(
            pilot,
            lambda: "talk" in dag.tasks and dag.tasks["talk"].status == TaskStatus.RUNNING,
            "talk running",
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen), "the log view")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is screen, "back in the run view")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is main, "back on the main screen")
        assert app.return_code is None

        app.open_run(run.id)
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view again")
        await pilot.press("Q")
        await wait_for(pilot, lambda: app.return_code == 0, "the app to exit")
    assert not (await demo.runner.run(run.id)).run.status.finished
    demo.gate.touch()
    assert (await demo.runner.wait_run(run.id)).status == RunStatus.SUCCEEDED


async def test_q_on_the_main_screen_quits_and_from_another_view_asks_first(
    demo: Demo,
) -> None:
    from shipdeck.tui.dialogs.confirm import ConfirmScreen
    from shipdeck.tui.dialogs.help import HelpScreen

    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        await wait_for(pilot, lambda: isinstance(main, MainScreen) and main.snapshot, "data")
        app.push_screen(HelpScreen(main))  # q closes help, its own key
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.screen is main, "help closed")

        from shipdeck.tui.screens.env_history import EnvHistoryScreen

        app.push_screen(EnvHistoryScreen(0, "api", "dev"))  # a view with no q of its own
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "kept")
        assert app.return_code is None
        await pilot.press("q", "y")
        await wait_for(pilot, lambda: app.return_code == 0, "the app to exit")

    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code == 0, "q on the main screen quits")


async def test_overview_says_what_a_queued_run_waits_for(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws").root
    with (root / "shipdeck.toml").open("a", encoding="utf-8") as file:
        file.write('\n[pipelines.serial]\nconcurrency = 1\ntasks.talk.run = "python3 talk.py"\n')
    runner = await open_local_runner(load_workspace(root), user="op")
    try:
        first = await runner.start_run("serial", None, trigger="test")
        second = await runner.start_run("serial", None, trigger="test")
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(
                pilot,
                lambda: f"queued behind #{first.id}" in visible_text(app.screen),
                "the queued run's reason",
            )
            running = app.screen.query_one("#overview-running", KeyedTable)
            assert running.row_count == 2
            (root / "gate").touch()
            await wait_for(pilot, lambda: "Nothing running" in visible_text(app.screen))
        assert (await runner.run(second.id)).run.status == RunStatus.SUCCEEDED
    finally:
        (root / "gate").touch()
        await runner.close()


async def test_words_typed_right_after_slash_filter_instead_of_acting(demo: Demo) -> None:
    """Type-ahead on a list: `t` (trigger) and `r` (rerun) typed right after `/` are filter
    text, even when every key is queued before the app handles `/`."""
    from textual import events

    from shipdeck.tui.views.overview import OverviewView

    await demo.run("ci")
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        overview = main.query_one(OverviewView)
        for key, char in [("slash", "/"), *((c, c) for c in "train")]:
            app.post_message(events.Key(key, char))
        await wait_for(pilot, lambda: overview.filter_words == ["train"], "the filter 'train'")
        assert app.screen is main  # no trigger form, no rerun preview


async def test_a_pipeline_added_to_the_file_shows_up_in_the_open_app(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipdeck.tui import cockpit as cockpit_module

    monkeypatch.setattr(cockpit_module, "PIPELINES_TTL", 0.0)
    app = demo.app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = app.screen
        assert isinstance(main, MainScreen)
        await wait_for(pilot, lambda: main.snapshot is not None, "the first snapshot")
        with (demo.workspace.root / "shipdeck.toml").open("a", encoding="utf-8") as file:
            file.write('\n[pipelines.nightly]\ntasks.only.run = "true"\n')
        await demo.run("ci")  # any change makes the overview load again
        await wait_for(
            pilot,
            lambda: (
                main.snapshot is not None and "nightly" in [p.name for p in main.snapshot.pipelines]
            ),
            "the new pipeline",
        )


async def test_text_from_the_workspace_is_shown_as_written(tmp_path: Path) -> None:
    """Table cells are not markup: a description with brackets neither vanishes nor crashes."""
    root = make_workspace(tmp_path / "ws").root
    with (root / "shipdeck.toml").open("a", encoding="utf-8") as file:
        file.write(
            '\n[pipelines.odd]\ndescription = "[/b] nightly [red]"\ntasks.only.run = "true"\n'
        )
    runner = await open_local_runner(load_workspace(root), user="op")
    try:
        app = create_app([runner], config=TuiConfig())
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("2")
            await wait_for(
                pilot, lambda: "[/b] nightly [red]" in visible_text(app.screen), "the description"
            )
            main = app.screen
            table = main.query_one("#pipelines-table", KeyedTable)
            table.move_cursor(row=table.get_row_index("odd"))
            await pilot.press("t")  # the trigger form shows the description too
            await wait_for(pilot, lambda: app.screen is not main, "the trigger form")
            await wait_for(
                pilot, lambda: "[/b] nightly [red]" in visible_text(app.screen), "in the form"
            )
            assert app.is_running
    finally:
        await runner.close()


async def test_a_run_that_ends_while_its_view_loads_is_shown_ended(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run view applies events only once loaded: a run that finished in between must
    not stay 'running' on screen (seen once by QA)."""
    import asyncio

    run = await demo.runner.start_run("chatty", {"lines": "3"}, trigger="test")
    app = demo.app()
    loading = asyncio.Event()
    release = asyncio.Event()
    real_pipeline = app.cockpit.pipeline

    async def slow_pipeline(name: str) -> object:
        loading.set()
        await release.wait()  # the run view is half-loaded: its detail said 'running'
        return await real_pipeline(name)

    dispatched: list[object] = []
    real_dispatch = app.dispatch_events

    def recording_dispatch(index: int, page: EventPage) -> None:
        dispatched.extend(
            getattr(e.data, "status", None) for e in page.events if e.run_id == run.id
        )
        real_dispatch(index, page)

    async with app.run_test(size=(80, 24)) as pilot:
        monkeypatch.setattr(app.cockpit, "pipeline", slow_pipeline)
        monkeypatch.setattr(app, "dispatch_events", recording_dispatch)
        app.open_run(run.id)
        await wait_for(pilot, loading.is_set, "the view to start loading")
        demo.gate.touch()
        await demo.runner.wait_run(run.id)
        # Its last events reach the half-loaded view (which drops them) before it loads on.
        await wait_for(pilot, lambda: "succeeded" in dispatched, "the run's end dispatched")
        release.set()
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await wait_for(
            pilot,
            lambda: screen.detail is not None and screen.detail.run.status.finished,
            "the view to show the run ended",
        )
        dag = screen.query_one(DagView)
        assert dag.tasks["talk"].status == TaskStatus.SUCCEEDED
