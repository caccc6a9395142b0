"""Which DAG a run view draws: the run's recorded one, else the declared one, else no edges."""

from __future__ import annotations

from datetime import UTC, datetime

from shipdeck.model import PipelineSpec, Run, RunDetail, RunStatus, TaskRun, TaskSpec
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.run_graph import fallback_graph, recorded_graph
from shipdeck.tui.screens.run import RunScreen
from shipdeck.tui.widgets.dag import DagView
from tests.tui.conftest import wait_for
from tests.tui.deck import Deck
from tests.tui.shown import Notices


def detail(*tasks: tuple[str, list[str] | None]) -> RunDetail:
    run = Run(
        id=7,
        pipeline="p",
        status=RunStatus.FAILED,
        params={},
        trigger="test",
        user="op",
        jobs=1,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return RunDetail(
        run=run, tasks=[TaskRun(run_id=7, name=n, needs=needs) for n, needs in tasks], metrics=[]
    )


def edges(spec: PipelineSpec) -> dict[str, tuple[str, ...]]:
    return {name: task.needs for name, task in spec.tasks.items()}


def declared(**needs: tuple[str, ...]) -> PipelineSpec:
    tasks = {n: TaskSpec(name=n, run="true", needs=ns) for n, ns in needs.items()}
    return PipelineSpec(name="p", tasks=tasks)


def test_recorded_needs_are_the_dag() -> None:
    spec = recorded_graph(detail(("a", []), ("b", ["a"])))
    assert spec is not None and edges(spec) == {"a": (), "b": ("a",)}


def test_a_run_from_before_recorded_needs_uses_the_declared_pipeline() -> None:
    old = detail(("a", None), ("b", None))
    assert recorded_graph(old) is None
    spec, note = fallback_graph(old, declared(a=(), b=("a",)))
    assert edges(spec) == {"a": (), "b": ("a",)} and note == ""


def test_without_a_matching_declaration_tasks_are_drawn_unconnected_with_a_note() -> None:
    old = detail(("a", None), ("b", None))
    spec, note = fallback_graph(old, None)
    assert edges(spec) == {"a": (), "b": ()}
    assert note == "pipeline 'p' is no longer declared: tasks shown without their edges"
    spec, note = fallback_graph(old, declared(a=(), c=("a",)))
    assert edges(spec) == {"a": (), "b": ()} and "has changed since" in note


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
