"""What must stay on screen at 80x24 (and the footer at 60x20): the prod confirmation label,
an action's outcome, help and its last line, every footer key inside the footer; and a
scrollbar whose track shows, so its thumb is never a lone block in a blank row."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from textual.color import Color
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import Label

from shipdeck.model import RerunMode
from shipdeck.tui.dialogs.confirm import ConfirmScreen, Preview
from shipdeck.tui.dialogs.help import HelpScreen
from shipdeck.tui.dialogs.trigger import TriggerScreen
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.screens.env_history import EnvHistoryScreen
from shipdeck.tui.screens.log import LogScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.views.deployments import DeploymentsView
from shipdeck.tui.widgets.footer import SteadyFooter
from shipdeck.tui.widgets.table import KeyedTable
from tests.tui.deck import Deck, finished, open_view, wait_for
from tests.tui.screen_text import screen_lines, screen_text
from tests.tui.test_deployments import go_to, open_action, outcome

SMALL = (80, 24)


async def test_the_prod_confirmation_label_is_whole_after_other_dialogs(deck: Deck) -> None:
    """Screen CSS files load app-wide: the trigger form's 16-cell labels used to cut this one
    to `type churn to` once the form had been opened, and the rerun preview narrowed it."""
    app = deck.app()
    async with app.run_test(size=SMALL) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "staging")
        await open_action(pilot, "p")
        await pilot.press("escape")
        pipelines = await deck.runner.pipelines()
        await app.push_screen(TriggerScreen(pipelines[0], deck.runner))
        await pilot.pause()
        await pilot.press("escape")
        await app.push_screen(ConfirmScreen(Preview("Rerun", "#1", ["package"])))
        await pilot.pause()
        await pilot.press("escape")
        screen = await open_action(pilot, "p")
        await pilot.pause()
        label = screen.query_one("#confirm-row", expect_type=None).query_one(Label)
        assert label.render_line(0).text.strip() == "type churn to confirm"
        assert screen.query_one("#dialog").outer_size.width == 76
        assert "type churn to confirm" in screen_text(app)
        assert "reason (required)" in screen_text(app)


async def test_the_roll_back_outcome_stays_on_an_80x24_screen(deck: Deck) -> None:
    revisions = [f"r{await finished(deck.runner, 'build', version=str(v))}" for v in range(2, 8)]
    for revision in revisions:
        await deck.runner.deploy("api", revision, "prod")
    app = deck.app()
    async with app.run_test(size=SMALL) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "prod")
        screen = await open_action(pilot, "b")
        assert "type api to confirm" in screen_text(app)  # the picker full, the boxes shown
        assert "esc keep as is" in screen_text(app)
        await pilot.press(*"bad build", "enter", *"api", "enter")
        await wait_for(pilot, lambda: screen.phase == "done", "the roll back")
        pane = screen.query_one(LogPane)
        await wait_for(pilot, lambda: pane.view.buffer.total > 0, "the deploy log")
        await pilot.pause()
        assert f"prod now holds {revisions[-2]}" in outcome(screen)
        text = screen_text(app)
        assert f"✓ succeeded: prod now holds {revisions[-2]}" in text
        assert "esc close" in text
        dialog = screen.query_one("#dialog")
        assert screen.region.contains_region(dialog.region)


async def test_the_deploy_dialog_keeps_its_boxes_and_keys_on_80x24(deck: Deck) -> None:
    for version in range(2, 8):
        await finished(deck.runner, "build", version=str(version))
    app = deck.app()
    async with app.run_test(size=SMALL) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "prod")
        await open_action(pilot, "d")
        await pilot.pause()
        text = screen_text(app)
        for line in ("Deploy api to prod", "reason (required)", "type api to confirm"):
            assert line in text
        assert "enter deploy" in text and "esc keep as is" in text


@pytest.mark.parametrize("view_key", ["1", "3", "5"])
async def test_the_footer_keeps_inside_60_columns(deck: Deck, view_key: str) -> None:
    app = deck.app()
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await pilot.press(view_key)
        await pilot.pause(0.2)
        footer = app.screen.query_one(SteadyFooter)

        def shown() -> list[Any]:
            return [key for key in footer.query("FooterKey") if key.display]

        def inside() -> bool:
            spans = sorted((key.region.x, key.region.right) for key in shown())
            apart = all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
            return apart and all(footer.region.contains_region(key.region) for key in shown())

        await wait_for(pilot, inside, "every key inside the footer, none over another")
        last = screen_lines(app)[-1]
        assert "? Help" in last and "q Quit" in last
        assert "paletteq" not in last
        wide = len(shown())
        await pilot.resize_terminal(140, 30)  # room again: what was left out comes back
        await wait_for(pilot, lambda: len(shown()) > wide, "the keys back")
        assert all(key.display for key in footer.query("FooterKey"))


@pytest.mark.parametrize(("size", "view_key"), [(SMALL, "5"), ((60, 20), "1")])
async def test_help_fits_the_screen_and_scrolls_with_j_and_k(
    deck: Deck, size: Any, view_key: str
) -> None:
    app = deck.app()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await pilot.press(view_key)
        await pilot.pause(0.2)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.pause()
        help_screen = app.screen
        dialog = help_screen.query_one("#help")
        assert help_screen.region.contains_region(dialog.region)
        lines = screen_lines(app)
        assert any("esc close" in line for line in lines)  # the last line is on screen
        keys = help_screen.query_one(VerticalScroll)
        assert keys.max_scroll_y > 0  # more keys than rows: it scrolls
        await pilot.press("j")
        await wait_for(pilot, lambda: keys.scroll_y == 1, "j scrolls down")
        await pilot.press("k")
        await wait_for(pilot, lambda: keys.scroll_y == 0, "k scrolls up")
        await pilot.press("end")
        await wait_for(pilot, lambda: keys.scroll_y == keys.max_scroll_y, "the end")
        assert "quit" in screen_text(app)


def brightness_gap(one: Color, other: Color) -> float:
    return abs(one.brightness - other.brightness)


TRACK_GAP = 0.1
"""How far a scrollbar's track must stand from its background to be seen as a rail. Textual's
default track is the theme's background a shade darker: on the high-contrast theme's black
surfaces that is black on black, on the light theme's surfaces hardly a shade."""


@pytest.mark.parametrize("theme", ["shipdeck-dark", "shipdeck-light", "shipdeck-high-contrast"])
async def test_a_scrollbar_track_shows_on_its_background(deck: Deck, theme: str) -> None:
    for _ in range(10):
        await deck.runner.deploy("api", "r1", "dev")
    app = deck.app(theme=theme)
    async with app.run_test(size=SMALL) as pilot:
        assert app.theme == theme
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "dev")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        table = app.screen.query_one(KeyedTable)
        await wait_for(pilot, lambda: table.row_count > 10, "the actions")
        await pilot.pause()
        assert table.show_vertical_scrollbar  # more actions than rows
        bar = table.vertical_scrollbar
        background = table.background_colors[1]
        width, height = bar.size
        tracks = [
            Color.from_rich_color(segment.style.bgcolor)
            for strip in bar.render_lines(Region(0, 0, width, height))
            for segment in strip
            if segment.style and segment.style.bgcolor and not segment.style.reverse
        ]
        assert tracks  # the thumb does not fill the bar
        gaps = [brightness_gap(track, background) for track in tracks]
        assert min(gaps) >= TRACK_GAP, (theme, background.hex, [t.hex for t in tracks])


async def test_the_rerun_preview_keeps_its_own_look(deck: Deck) -> None:
    """Scoped both ways: a deploy dialog opened after the rerun preview used to widen it."""
    app = deck.app()
    async with app.run_test(size=SMALL) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        plan = await deck.runner.rerun_plan("1", RerunMode.ALL)
        await app.push_screen(ConfirmScreen(Preview("Rerun every task", "#1", plan)))
        await pilot.pause()
        assert app.screen.query_one("#dialog").outer_size.width == 64
        await pilot.press("escape")
        await go_to(pilot, view, "0:churn", "staging")
        await open_action(pilot, "p")
        await pilot.press("escape")
        await app.push_screen(ConfirmScreen(Preview("Rerun every task", "#1", plan)))
        await pilot.pause()
        assert app.screen.query_one("#dialog").outer_size.width == 64


@pytest.mark.parametrize("screen", ["run", "log"])
async def test_the_way_back_stays_in_a_60_column_footer(deck: Deck, screen: str) -> None:
    """In the run and log views `q` goes back: the one key out must not be the one left out."""
    run_id = await finished(deck.runner, "build")
    app = deck.app()
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await app.push_screen(
            RunScreen(run_id) if screen == "run" else LogScreen(run_id, "package")
        )
        await pilot.pause(0.2)

        def footer_line() -> str:
            return screen_lines(app)[-1]

        await wait_for(pilot, lambda: "? Help" in footer_line(), "the footer")
        assert "q Back" in footer_line()
