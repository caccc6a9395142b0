"""Deployments view: the matrix, an environment's history, promote (prod typed confirmation,
gate refusal, conflict), a failed deploy, roll back, and read-only mode."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from shipdeck.model import Outcome
from shipdeck.tui.dialogs.help import HelpScreen
from shipdeck.tui.dialogs.promote import ActionScreen
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.screens.env_history import EnvHistoryScreen
from shipdeck.tui.screens.main import MainScreen
from shipdeck.tui.views.deployments import DeploymentsView, MatrixTable
from shipdeck.tui.widgets.table import KeyedTable
from tests.tui.deck import Deck, open_view, wait_for
from tests.tui.shown import Notices


def cell(view: DeploymentsView, row: str, env: str) -> str:
    return str(view.query_one(MatrixTable).get_cell(row, f"env:{env}"))


async def held(deck: Deck, service: str, env: str) -> str | None:
    states = await deck.runner.deployments()
    return next(s.revision for s in states if s.service == service and s.env == env)


async def go_to(pilot: Pilot[Any], view: DeploymentsView, row: str, env: str) -> None:
    table = view.query_one(MatrixTable)
    table.move_cursor(row=table.row_keys.index(row), column=table.envs.index(env) + 1)
    await pilot.pause()
    assert view.selected() is not None
    selected = view.selected()
    assert selected is not None and selected[1].spec.name == row.split(":")[1]


async def open_action(pilot: Pilot[Any], key: str) -> ActionScreen:
    await pilot.press(key)
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ActionScreen), "the action dialog")
    screen = app.screen
    assert isinstance(screen, ActionScreen)
    await wait_for(pilot, lambda: screen.phase != "loading", "the plan")
    return screen


def body(screen: ActionScreen) -> str:
    return str(screen.query_one("#plan-body").render())


def outcome(screen: ActionScreen) -> str:
    return str(screen.query_one("#dialog-error").render())


async def test_matrix_shows_revision_health_who_and_key_metric(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        table = view.query_one(MatrixTable)
        assert table.envs == ["dev", "staging", "prod"]
        assert str(table.ordered_columns[3].label) == "PROD"
        assert cell(view, "0:api", "dev").startswith("r1 ✓ok\n")
        assert cell(view, "0:api", "prod").startswith("(empty)")
        assert cell(view, "0:churn", "dev") == "·"
        prod = cell(view, "0:churn", "prod")
        assert prod.startswith("v1 ✓ok\n") and "op auc 0.85" in prod
        assert "auc 0.91" in cell(view, "0:churn", "staging")


async def test_j_and_k_move_between_services_and_help_lists_them(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "the main screen")
        await pilot.press("5")
        view = app.screen.query_one(DeploymentsView)
        await wait_for(pilot, lambda: view.parts, "the deployments")
        table = view.query_one(MatrixTable)
        await wait_for(pilot, lambda: table.has_focus and table.row_count == 2, "the matrix")
        assert table.cursor_coordinate.row == 0
        await pilot.press("j")
        await wait_for(pilot, lambda: table.cursor_coordinate.row == 1, "j: the next service")
        assert table.row_keys == ["0:api", "0:churn"]
        await pilot.press("k")
        await wait_for(pilot, lambda: table.cursor_coordinate.row == 0, "k: back up")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = [
            [str(cell) for cell in row]
            for row in zip(*(c.cells for c in help_screen.keys_table().columns), strict=True)
        ]
        assert ["j", "Down", "list.down"] in rows and ["k", "Up", "list.up"] in rows


async def test_enter_opens_the_environment_history_with_gates_and_log(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "prod")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        screen = app.screen
        await wait_for(pilot, lambda: screen.query(LogPane), "the deploy log")
        entry = str(screen.query_one("#env-entry").render())
        assert "promote ∅ → v1  ✓ succeeded" in entry
        assert "✓ metric:auc >= 0.8" in entry
        pane = screen.query_one(LogPane)
        await wait_for(pilot, lambda: pane.view.buffer.total > 0, "log lines")
        assert pane.task_name == "deploy"
        await pilot.press("escape")
        assert app.screen.query(DeploymentsView)


async def test_promote_to_prod_needs_the_service_name_typed(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "staging")
        screen = await open_action(pilot, "p")
        assert screen.env == "prod" and screen.phase == "ready"
        text = body(screen)
        assert "prod: v1 → v2 (from staging)" in text
        assert "auc" in text and "0.85 → 0.91 ▲+0.06" in text
        assert "✓ metric:auc >= 0.8" in text
        reason = screen.query_one("#reason", Input)
        await pilot.press("y")  # not enough for prod: only a letter in the reason box
        assert screen.phase == "ready" and reason.value == "y"
        await pilot.press("backspace", "enter")
        assert "a reason is required for prod" in outcome(screen)
        assert screen.focused is reason
        await pilot.press(*"v2 wins on auc", "enter")  # on to the name box
        await pilot.press(*"chur", "enter")
        assert "type churn exactly" in outcome(screen)
        assert await held(deck, "churn", "prod") == "v1"
        await pilot.press("n", "enter")
        await wait_for(pilot, lambda: screen.phase == "done", "the promotion")
        assert "succeeded: prod now holds v2" in outcome(screen)
        assert screen.query(LogPane)
        assert await held(deck, "churn", "prod") == "v2"
        newest = (await deck.runner.history("churn", "prod"))[0]
        assert newest.reason == "v2 wins on auc"
        await pilot.press("escape")
        await wait_for(pilot, lambda: cell(view, "0:churn", "prod").startswith("v2"), "repaint")


async def test_a_failing_gate_refuses_and_changes_nothing(deck: Deck) -> None:
    await deck.runner.deploy("churn", "v3", "staging")  # auc 0.75: healthy, below the gate
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "staging")
        screen = await open_action(pilot, "p")
        text = body(screen)
        assert "✗ metric:auc >= 0.8" in text and "Refused by its gates" in text
        assert not screen.query_one("#confirm-row").display  # nothing to type a name for
        await pilot.press(*"churn", "enter")
        assert outcome(screen) == ""  # the letters went nowhere; no hidden box submitted
        await pilot.press("y")
        assert "refused: gate failed: metric:auc >= 0.8" in outcome(screen)
        assert screen.phase == "ready"
        assert await held(deck, "churn", "prod") == "v1"
        assert [h.outcome for h in await deck.runner.history("churn", "prod")] == [
            Outcome.SUCCEEDED
        ]


async def test_promoting_what_the_environment_already_holds_says_so_and_offers_nothing(
    deck: Deck,
) -> None:
    notices = Notices(app := deck.app())
    async with app.run_test(size=(80, 24)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "dev")  # dev and staging both hold r1
        screen = await open_action(pilot, "p")
        assert screen.env == "staging"
        text = body(screen)
        assert text == "staging already holds r1, as dev does: nothing to promote", text
        keys = str(screen.query_one("#dialog-keys").render())
        assert "promote" not in keys and "y" not in keys.split(), keys
        assert not screen.query_one("#reason-row").display
        before = await deck.runner.history("api", "staging")
        await pilot.press("y")
        await pilot.pause(0.2)
        assert screen.phase == "done" and outcome(screen) == ""
        assert await deck.runner.history("api", "staging") == before  # nothing was run
        assert not [n for n in notices if n.message.startswith("promote api")]


async def test_a_conflict_shows_the_new_state_and_overwrites_nothing(deck: Deck) -> None:
    rebuilt = await deck.runner.start_run("build", {"version": "2"})
    await deck.runner.wait_run(rebuilt.id)
    await deck.runner.deployer.deploy("api", f"r{rebuilt.id}", "dev")
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "dev")
        screen = await open_action(pilot, "p")
        assert f"staging: r1 → r{rebuilt.id}" in body(screen)
        # Another client rebuilds and deploys to staging while the dialog is open.
        build = await deck.runner.start_run("build", {"version": "2"})
        await deck.runner.wait_run(build.id)
        await deck.runner.deployer.deploy("api", f"r{build.id}", "staging")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.phase == "done", "the answer")
        assert "conflict" in outcome(screen) and "nothing was changed" in outcome(screen)
        assert f"staging: r{build.id} → r{rebuilt.id}" in body(screen)  # what it holds now
        assert await held(deck, "api", "staging") == f"r{build.id}"
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: cell(view, "0:api", "staging").startswith(f"r{build.id}"), "repaint"
        )


async def test_a_failed_deploy_keeps_the_revision_and_shows_why(deck: Deck) -> None:
    build = await deck.runner.start_run("build", {"version": "3"})
    await deck.runner.wait_run(build.id)
    await deck.runner.deploy("api", f"r{build.id}", "dev")
    (deck.workspace.root / "fail_deploy").touch()
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "dev")
        screen = await open_action(pilot, "p")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.phase == "done", "the deploy")
        assert "failed" in outcome(screen) and "staging keeps r1" in outcome(screen)
        pane = screen.query_one(LogPane)
        await wait_for(pilot, lambda: pane.view.buffer.total > 0, "the deploy log")
        await pilot.press("escape")
        await go_to(pilot, view, "0:api", "staging")
        await wait_for(pilot, lambda: "✗r" in cell(view, "0:api", "staging"), "repaint")
        assert cell(view, "0:api", "staging").startswith("r1 ✓ok")
        detail = str(view.query_one("#deploy-detail").render())
        assert "failed: deploy failed" in detail and "staging keeps r1" in detail
    assert await held(deck, "api", "staging") == "r1"


async def test_roll_back_lists_history_and_defaults_to_the_previous(deck: Deck) -> None:
    build = await deck.runner.start_run("build", {"version": "4"})
    await deck.runner.wait_run(build.id)
    await deck.runner.deploy("api", f"r{build.id}", "staging")
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:api", "staging")
        screen = await open_action(pilot, "b")
        targets = screen.query_one("#rollback-targets", KeyedTable)
        assert targets.selected_key == "r1"
        assert f"staging: r{build.id} → r1" in body(screen)
        await pilot.press("y")
        await wait_for(pilot, lambda: screen.phase == "done", "the rollback")
        assert "staging now holds r1" in outcome(screen)
    assert await held(deck, "api", "staging") == "r1"


async def test_read_only_hides_the_actions_and_says_so_when_pressed(deck: Deck) -> None:
    app = deck.app(read_only=True)
    notices = Notices(app)
    async with app.run_test(size=(100, 30)) as pilot:

        async def refused(key: str, what: str) -> None:
            """Pressed anyway, the key says why nothing happens (it used to do nothing)."""
            screen = app.screen
            await pilot.press(key)
            message = f"{what} refused: read-only mode"
            await wait_for(pilot, lambda: any(n.message == message for n in notices.shown), message)
            assert app.screen is screen

        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "staging")
        shown = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "promote" not in shown and "rollback" not in shown  # footer and help
        assert "list.down" in {b.binding.id for b in app.screen.active_bindings.values()}
        await refused("p", "Promote")
        await refused("b", "Roll back")
        await pilot.press("escape")
        models = await open_view(pilot, "models")
        shown = {b.binding.action for b in app.screen.active_bindings.values()}
        assert "alias" not in shown and "mark" in shown
        await refused("a", "Alias")
        assert app.screen.query(type(models))
    assert await held(deck, "churn", "prod") == "v1"


async def test_the_history_counts_its_actions_in_words(deck: Deck) -> None:
    app = deck.app()
    async with app.run_test(size=(100, 30)) as pilot:
        view: DeploymentsView = await open_view(pilot, "deployments")
        await go_to(pilot, view, "0:churn", "prod")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EnvHistoryScreen), "history")
        title = app.screen.query_one("#env-title")
        await wait_for(pilot, lambda: "newest first" in str(title.render()), "the title")
        assert "churn/prod: 1 action, newest first" in str(title.render())  # not "1 actions"
        status = str(view.query_one("#deploy-status").render())
        assert "2 services" in status
