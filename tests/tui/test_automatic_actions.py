"""Automatic actions in the cockpit: the environment history and the Deployments view say
the runner took them, and why."""

from __future__ import annotations

from shipdeck.model import AutoCause, AutoKind
from shipdeck.tui.screens.env_history import EnvHistoryScreen
from shipdeck.tui.views.deployments import DeploymentsView
from shipdeck.tui.widgets.table import KeyedTable
from tests.tui.deck import Deck, open_view, wait_for
from tests.tui.test_deployments import go_to


async def test_an_automatic_rollback_is_shown_as_such(deck: Deck) -> None:
    cause = AutoCause(kind=AutoKind.HEALTH, text="health failed 3 times in a row on v2", failures=3)
    entry = await deck.runner.deployer.rollback("churn", "staging", expect="v2", cause=cause)
    assert entry.automatic
    app = deck.app()
    async with app.run_test(size=(120, 36)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "staging")
        detail = view.query_one("#deploy-detail")
        await wait_for(pilot, lambda: "auto rollback" in str(detail.render()), "the last action")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        screen = app.screen
        shown = screen.query_one("#env-entry")
        await wait_for(pilot, lambda: "AUTOMATIC" in str(shown.render()), "the entry")
        text = str(shown.render())
        assert "rollback v2 → v1" in text
        assert "reason: automatic, because health failed 3 times in a row on v2" in text
        table = screen.query_one(KeyedTable)
        assert "auto rollback" in [str(c) for c in table.get_row_at(0)]
