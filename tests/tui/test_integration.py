"""The three views as tabs of the main screen: number keys, help with binding ids, the
palette's view, environment and run entries, and the views loading only when first shown."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette

from shipdeck.tui.dialogs.help import HelpScreen
from shipdeck.tui.screens.env_history import EnvHistoryScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.views.deployments import DeploymentsView, MatrixTable
from shipdeck.tui.views.models import ModelsView
from shipdeck.tui.views.timeline import TimelineView
from shipdeck.tui.widgets.grid import GridTable
from tests.tui.deck import Deck, finished, wait_for
from tests.tui.shown import Notices


async def test_number_keys_switch_to_the_new_tabs(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        main = app.screen
        assert not main.query(ModelsView)  # built on first use
        await pilot.press("4")
        assert main.current_view == "models"
        models = main.query_one(ModelsView)
        await wait_for(pilot, lambda: models.parts, "the models")
        await pilot.press("5")
        deployments = main.query_one(DeploymentsView)
        await wait_for(pilot, lambda: deployments.parts, "the deployments")
        assert main.query_one(MatrixTable).has_focus
        shown = {b.binding.action for b in main.active_bindings.values() if b.enabled}
        assert "promote" in shown and "trigger" not in shown and "rerun" not in shown
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        await pilot.press("escape", "6")
        timeline = main.query_one(TimelineView)
        await wait_for(pilot, lambda: timeline.parts, "the timeline")
        assert main.current_view == "timeline"


async def test_help_lists_the_view_keys_with_their_ids(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await pilot.press("5")
        await wait_for(pilot, lambda: app.screen.query_one(DeploymentsView).parts, "loaded")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        keys = help_screen.keys_table()
        listed = {str(cell) for column in keys.columns for cell in column.cells}
        assert {"deploy.promote", "deploy.rollback", "deploy.open", "view.timeline"} <= listed


async def test_the_palette_opens_an_environment_history(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"churn/prod")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        assert (app.screen.service, app.screen.env) == ("churn", "prod")  # type: ignore[attr-defined]


async def test_the_palette_ranks_the_exact_run_number_first(deck: Deck) -> None:
    newest = "0"
    while int(newest) < 10:  # runs #10 and up: `#1` is in their labels too
        newest = await finished(deck.runner, "build")
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await pilot.press("ctrl+p", *"#1")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        options = palette.query_one(CommandList)

        def labels() -> list[str]:
            count = options.option_count
            return [str(options.get_option_at_index(i).prompt) for i in range(count)]

        await wait_for(
            pilot,
            lambda: {"#1", f"#{newest}"} <= {label.split()[1] for label in labels()},
            "both matching runs",
        )
        assert labels()[0].startswith("run #1 build"), labels()
        assert options.highlighted == 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run view")
        assert app.screen.run_id == "1"  # type: ignore[attr-defined]


async def test_a_rerun_the_runner_refuses_is_titled_after_what_could_not_be_done(
    deck: Deck,
) -> None:
    deploys = [r for r in await deck.runner.runs() if r.pipeline.startswith("deploy:")]
    run_id = deploys[0].id  # a deploy run: no pipeline of that name to rerun
    app = deck.app()
    notices = Notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        main = app.screen
        assert isinstance(main, MainScreen)
        await pilot.press("3")
        table = main.query_one("#runs-table", GridTable)
        await wait_for(pilot, lambda: str(run_id) in table.rows, "the deploy run's row")
        table.move_cursor(row=table.get_row_index(str(run_id)))
        await wait_for(pilot, lambda: table.selected_key == str(run_id), "the row selected")
        await pilot.press("r")
        title = f"Could not rerun #{run_id}"
        await wait_for(pilot, lambda: any(n.title == title for n in notices.shown), "the error")
        error = next(n for n in notices.shown if n.title == title)
        assert "no pipeline" in str(error.message) and error.severity == "error"
        assert not any(n.title == "Rerun failed" for n in notices.shown)
