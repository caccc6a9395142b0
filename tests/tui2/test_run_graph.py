"""A run view draws the run's own DAG: deploy runs (no declared pipeline) open like any run."""

from __future__ import annotations

from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.widgets.dag import DagView
from shipdeck.tui.widgets.log_pane import LogPane
from tests.tui.shown import Notices
from tests.tui2.conftest import Deck, wait_for


async def test_a_deploy_run_opens_with_its_dag_and_log_and_no_rerun(deck: Deck) -> None:
    runs = await deck.runner.runs(limit=50)
    deploy = next(run for run in runs if run.pipeline == "deploy:churn")
    detail = await deck.runner.run(deploy.id)
    assert [(t.name, t.needs) for t in detail.tasks] == [("deploy", []), ("health", ["deploy"])]

    app = deck.app()
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(RunScreen(deploy.id))
        screen = app.screen
        assert isinstance(screen, RunScreen)
        await wait_for(pilot, lambda: screen.query(DagView), "the DAG")
        assert screen.spec is not None
        assert {name: spec.needs for name, spec in screen.spec.tasks.items()} == {
            "deploy": (),
            "health": ("deploy",),
        }
        await wait_for(pilot, lambda: screen.query(LogPane), "the log pane")
        pane = screen.query_one(LogPane)
        await wait_for(pilot, lambda: pane.view.buffer.total > 0, "the deploy log")
        # Nothing to rerun or trigger: the workspace declares no such pipeline. Cancel stays.
        footer_keys = {binding.action for _, binding, enabled, _ in app.active_bindings.values()}
        assert "cancel" in footer_keys
        assert not footer_keys & {"rerun", "rerun_failed", "rerun_from", "trigger"}
        # Pressed all the same, each hidden key says why nothing happens.
        for key, what in [("r", "Rerun"), ("R", "Rerun"), ("F", "Rerun"), ("t", "Trigger")]:
            notices.shown.clear()
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen  # no preview opened
            assert [(n.message, n.severity) for n in notices.shown] == [
                (
                    f"{what} refused: {deploy.label} is a deploy of churn: deploy, promote or"
                    " roll back it in Deployments (5)",
                    "warning",
                )
            ], key
