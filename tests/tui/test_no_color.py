"""NO_COLOR: Textual turns every colour into a grey, so nothing may be told by colour alone. A
failure is a ✗ in bold and never greyer than a success; a better or worse metric change has
▲ or ▼ (worse in bold)."""

from __future__ import annotations

from typing import Any

import pytest
from rich.segment import Segment
from textual.color import Color
from textual.geometry import Region

from shipdeck.tui.screens.env_history import EnvHistoryScreen
from shipdeck.tui.views.deployments import DeploymentsView
from shipdeck.tui.views.models import ModelsView
from shipdeck.tui.widgets.table import KeyedTable
from tests.tui.deck import Deck, open_view, wait_for
from tests.tui.test_deployments import body, go_to, open_action


@pytest.fixture(autouse=True)
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


def drawn(widget: Any) -> list[list[Segment]]:
    """The widget's lines as the terminal gets them (after the app's NO_COLOR filter)."""
    width, height = widget.size
    return [list(strip) for strip in widget.render_lines(Region(0, 0, width, height))]


def segment_with(lines: list[list[Segment]], words: str) -> Segment:
    return next(s for line in lines for s in line if words in s.text)


def grey(segment: Segment) -> float:
    assert segment.style is not None and segment.style.color is not None
    return Color.from_rich_color(segment.style.color).brightness


async def test_a_failed_action_is_marked_and_loud_not_dimmer(deck: Deck) -> None:
    build = await deck.runner.start_run("build", {"version": "3"})
    await deck.runner.wait_run(build.id)
    await deck.runner.deploy("api", f"r{build.id}", "dev")
    (deck.workspace.root / "fail_deploy").touch()
    await deck.runner.promote("api", "staging")
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "staging")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        table = app.screen.query_one(KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 2, "both actions")
        app.screen.set_focus(None)  # no cursor highlight on either row: the cells as styled
        await pilot.pause()
        lines = drawn(table)
        failed, succeeded = segment_with(lines, "failed"), segment_with(lines, "succeeded")
        text = "\n".join("".join(s.text for s in line) for line in lines)
        assert "✗ failed" in text and "✓ succeeded" in text
        assert failed.style is not None and failed.style.bold
        assert succeeded.style is not None and not succeeded.style.bold
        assert grey(failed) >= grey(succeeded)  # red used to become the darker grey


async def test_better_and_worse_differ_by_glyph(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 24)) as pilot:
        models = await open_view(pilot, "models")
        assert isinstance(models, ModelsView)
        await pilot.pause()
        table = models.query_one("#models-table")
        text = "\n".join("".join(s.text for s in line) for line in drawn(table))
        # Against the champion v2 (auc .91, loss .18): v1 and v3 are worse on both.
        assert "0.85 ▼-0.06" in text and "0.4 ▼+0.2182" in text
        worse = segment_with(drawn(table), "▼-0.06")
        assert worse.style is not None and worse.style.bold
        await pilot.press("escape")
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "staging")
        screen = await open_action(pilot, "p")
        assert "0.85 → 0.91 ▲+0.06" in body(screen)  # auc up: better
        assert "0.4 → 0.1818 ▲-0.2182" in body(screen)  # loss down: better too
