"""Which DAG a run view draws: the run's recorded one, else the declared one, else no edges."""

from __future__ import annotations

from datetime import UTC, datetime

from shipdeck.model import PipelineSpec, Run, RunDetail, RunStatus, TaskRun, TaskSpec
from shipdeck.tui.run_graph import fallback_graph, recorded_graph


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
