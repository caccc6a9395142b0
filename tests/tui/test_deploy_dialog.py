"""Deploy from the TUI (`d`): pick a build, a model version or an alias for the selected
environment, with the plan, gates and confirmation of promote; a reason for the history in
every action dialog (required for prod); and an empty matrix that says how to start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Input

from shipdeck.model import DeployAction, Outcome
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.views.deployments import DeploymentsView
from shipdeck.tui.widgets.table import KeyedTable
from tests.tui.deck import (
    Deck,
    Ticker,
    finished,
    open_deck,
    open_view,
    wait_for,
    write_workspace,
)
from tests.tui.screen_text import screen_text
from tests.tui.shown import Notices
from tests.tui.test_deployments import body, cell, go_to, held, open_action, outcome


async def test_deploy_picks_the_latest_build_and_records_the_reason(deck: Deck) -> None:
    newest = f"r{await finished(deck.runner, 'build', version='2')}"
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "dev")
        screen = await open_action(pilot, "d")
        assert screen.action == DeployAction.DEPLOY and screen.env == "dev"
        choices = screen.query_one("#deploy-choices", KeyedTable)
        assert choices.selected_key == newest  # the latest successful build
        assert choices.get_row(newest)[1].plain == "latest build"
        assert choices.get_row("r1")[1].plain == "build #1, here now"
        assert f"dev: r1 → {newest}" in body(screen)
        assert "param  version        1 → 2" in body(screen)
        assert not screen.query("#confirm-row")  # not prod: y confirms
        await pilot.press("tab", *"hotfix for #4512")
        assert screen.query_one("#reason", Input).value == "hotfix for #4512"
        await pilot.press("enter")  # from the reason box: go, as y would
        await wait_for(pilot, lambda: screen.phase == "done", "the deploy")
        assert f"succeeded: dev now holds {newest}" in outcome(screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: cell(view, "0:api", "dev").startswith(newest), "repaint")
    entry = (await deck.runner.history("api", "dev"))[0]
    assert (entry.action, entry.to_revision, entry.reason) == (
        DeployAction.DEPLOY,
        newest,
        "hotfix for #4512",
    )


async def test_deploy_an_alias_to_prod_needs_a_reason_and_the_name(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "prod")
        screen = await open_action(pilot, "d")
        choices = screen.query_one("#deploy-choices", KeyedTable)
        assert [row.value for row in choices.rows] == ["v3", "v2", "v1", "champion"]
        assert "@champion" in choices.get_row("v2")[3].plain
        reason = screen.query_one("#reason", Input)
        # v3 (auc 0.75) is below the prod gate: nothing to confirm, no boxes to type in.
        assert "✗ metric:auc >= 0.8" in body(screen)
        assert not screen.query_one("#reason-row").display and screen.focused is None
        await pilot.press("down", "down", "down")  # the champion alias
        await wait_for(pilot, lambda: "prod: v1 → v2" in body(screen), "the champion's plan")
        assert choices.selected_key == "champion"
        assert "✓ metric:auc >= 0.8" in body(screen)
        assert screen.query_one("#reason-row").display
        await wait_for(pilot, lambda: screen.focused is reason, "the reason box: type at once")
        await pilot.press("enter")  # no reason yet
        assert "a reason is required for prod" in outcome(screen)
        await pilot.press("tab", *"churn", "enter")  # the name alone is not enough
        assert "a reason is required for prod" in outcome(screen)
        assert screen.focused is reason and screen.phase == "ready"
        assert await held(deck, "churn", "prod") == "v1"
        await pilot.press(*"champion since Monday", "enter")
        assert screen.focused is screen.query_one("#confirm-name", Input)
        await pilot.press("enter")  # the name typed before is still there
        await wait_for(pilot, lambda: screen.phase == "done", "the deploy")
        assert "prod now holds v2" in outcome(screen)
    entry = (await deck.runner.history("churn", "prod"))[0]
    assert (entry.action, entry.to_revision, entry.outcome, entry.reason) == (
        DeployAction.DEPLOY,
        "v2",
        Outcome.SUCCEEDED,
        "champion since Monday",
    )


async def test_promote_and_roll_back_record_the_reason_typed_not_tui(deck: Deck) -> None:
    fix = await deck.runner.start_run("build", {"version": "2"})
    await deck.runner.wait_run(fix.id)
    await deck.runner.deployer.deploy("api", f"r{fix.id}", "dev")  # staging holds r1
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "dev")
        screen = await open_action(pilot, "p")
        await pilot.press("tab", *"staging gets the fix", "enter")
        await wait_for(pilot, lambda: screen.phase == "done", "the promotion")
        await pilot.press("escape")
        await go_to(pilot, view, "0:churn", "staging")
        screen = await open_action(pilot, "b")
        await pilot.press("y")  # no reason outside prod: none is recorded
        await wait_for(pilot, lambda: screen.phase == "done", "the roll back")
    promoted = (await deck.runner.history("api", "staging"))[0]
    assert (promoted.action, promoted.reason) == (DeployAction.PROMOTE, "staging gets the fix")
    rolled = (await deck.runner.history("churn", "staging"))[0]
    assert (rolled.action, rolled.reason) == (DeployAction.ROLLBACK, "")


async def test_read_only_refuses_deploy(deck: Deck) -> None:
    app = deck.app(read_only=True)
    notices = Notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "dev")
        assert "deploy" not in {b.binding.action for b in app.screen.active_bindings.values()}
        await pilot.press("d")
        message = "Deploy refused: read-only mode"
        await wait_for(pilot, lambda: any(n.message == message for n in notices.shown), message)
        assert "press d" not in str(view.query_one("#deploy-status").render())


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[Deck]:
    """The deck's workspace with nothing run and nothing deployed, like a new demo."""
    workspace = write_workspace(tmp_path / "ws")
    runner = await open_deck(workspace, Ticker())
    try:
        yield Deck(workspace, runner)
    finally:
        await runner.close()


async def test_an_empty_matrix_says_how_to_start(fresh: Deck) -> None:
    app = fresh.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        status = "nothing deployed yet: press d on an environment to deploy"
        assert status in screen_text(app)  # whole at 80 columns
        await go_to(pilot, view, "0:api", "dev")
        assert "d deploys a build or model version here" in str(
            view.query_one("#deploy-detail").render()
        )
        screen = await open_action(pilot, "d")  # nothing built yet: it says so
        assert "no successful run of build has built anything to deploy yet" in body(screen)
        await pilot.press("escape")
        await finished(fresh.runner, "build")
        await go_to(pilot, view, "0:api", "dev")
        screen = await open_action(pilot, "d")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.phase == "done", "the first deploy")
        await pilot.press("escape")
        await wait_for(
            pilot,
            lambda: "nothing deployed" not in str(view.query_one("#deploy-status").render()),
            "the status after the first deploy",
        )
    assert await held(fresh, "api", "dev") == "r1"


async def test_the_dialog_shows_the_deploy_runs_log_while_the_action_is_in_flight(
    deck: Deck,
) -> None:
    """The dialog learns the action's deploy run from the `deploy_started` event and follows
    its log while the action is still in flight."""
    (deck.workspace.root / "slow_deploy").touch()
    app = deck.app()
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "dev")
        screen = await open_action(pilot, "d")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.run_id is not None, "the deploy run")
        assert screen.phase == "running"
        [state] = [
            s for s in await deck.runner.deployments() if (s.service, s.env) == ("api", "dev")
        ]
        assert state.in_flight is not None and state.in_flight.run_id == screen.run_id
        [pane] = screen.query(LogPane)
        assert (pane.run_id, pane.task_name) == (screen.run_id, "deploy")
        await wait_for(pilot, lambda: pane.view.buffer.total >= 1, "the deploy's first line")
        await deck.runner.cancel(screen.run_id)
        await wait_for(pilot, lambda: screen.phase == "done", "the outcome")
        assert "failed" in outcome(screen)
