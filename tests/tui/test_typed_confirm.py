"""Typed confirmation for prod: promote and roll back alike take the reason at once, then the
service name; a roll back's revision stays pickable from the keyboard, and there is nothing to
type when there is nothing to confirm."""

from __future__ import annotations

from textual.widgets import Input

from shipdeck.tui.dialogs.promote import ActionScreen
from shipdeck.tui.views.deployments import DeploymentsView
from shipdeck.tui.widgets.table import KeyedTable
from tests.tui.deck import Deck, finished, open_view, wait_for
from tests.tui.test_deployments import body, go_to, held, open_action, outcome


async def test_prod_roll_back_takes_the_reason_at_once_and_picks_with_the_arrows(
    deck: Deck,
) -> None:
    older = f"r{await finished(deck.runner, 'build', version='2')}"
    newer = f"r{await finished(deck.runner, 'build', version='3')}"
    for revision in ("r1", older, newer):
        await deck.runner.deploy("api", revision, "prod")
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "prod")
        screen = await open_action(pilot, "b")
        reason = screen.query_one("#reason", Input)
        name = screen.query_one("#confirm-name", Input)
        targets = screen.query_one("#rollback-targets", KeyedTable)
        assert screen.focused is reason  # as when promoting to prod
        assert targets.selected_key == older
        await pilot.press(*"bad r3", "enter")
        assert screen.focused is name
        await pilot.press(*"api")
        assert name.value == "api"

        await pilot.press("down")  # the list moves while the name box keeps the focus
        await wait_for(pilot, lambda: f"prod: {newer} → r1" in body(screen), "the r1 plan")
        assert targets.selected_key == "r1" and screen.focused is name
        assert name.value == ""  # typed for another plan: type it again
        assert reason.value == "bad r3"  # the why has not changed

        await pilot.press("tab")  # the list is the next stop, no invisible one in between
        assert screen.focused is targets
        await pilot.press("k")
        await wait_for(pilot, lambda: f"prod: {newer} → {older}" in body(screen), "back up")
        await pilot.press("j")
        await wait_for(pilot, lambda: f"prod: {newer} → r1" in body(screen), "down again")
        await wait_for(pilot, lambda: screen.phase == "ready", "the plan")
        await pilot.press("tab")
        assert screen.focused is reason
        await pilot.press("tab")
        assert screen.focused is name
        await pilot.press(*"api", "enter")
        await wait_for(pilot, lambda: screen.phase == "done", "the roll back")
        assert "prod now holds r1" in outcome(screen)
    assert await held(deck, "api", "prod") == "r1"
    assert (await deck.runner.history("api", "prod"))[0].reason == "bad r3"


async def test_promote_to_prod_takes_the_reason_then_the_name(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "staging")
        screen = await open_action(pilot, "p")
        assert screen.focused is screen.query_one("#reason", Input)
        assert screen.query_one("#confirm-row").display
        await pilot.press(*"v2 is the champion", "enter", *"churn", "enter")
        await wait_for(pilot, lambda: screen.phase == "done", "the promotion")
    assert await held(deck, "churn", "prod") == "v2"


async def test_no_name_to_type_when_there_is_nothing_to_roll_back_to(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "prod")  # empty: no earlier revision
        screen = await open_action(pilot, "b")
        assert isinstance(screen, ActionScreen)
        assert "no earlier revision to roll back to" in body(screen)
        assert not screen.query_one("#confirm-row").display
        assert not screen.query_one("#rollback-targets").display
        assert "type api" not in str(screen.query_one("#dialog-keys").render())
        await pilot.press(*"api", "enter", "y")
        await pilot.pause()
        assert screen.phase == "done" and outcome(screen) == ""
    assert await held(deck, "api", "prod") is None
