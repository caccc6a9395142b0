"""The DAG a run view draws: the run's own, as recorded when it started.

A run records each task's needs, so its DAG is drawn as it ran even after the workspace file
changed, and for runs of pipelines the file never declared (a service's deploy runs). Runs
recorded before shipdeck kept their needs fall back to the pipeline as declared now, when its
tasks are still the run's, else to the tasks without edges, with a note saying so.
"""

from __future__ import annotations

from shipdeck.model import PipelineSpec, RunDetail, TaskSpec


def recorded_graph(detail: RunDetail) -> PipelineSpec | None:
    """The run's DAG from its tasks' recorded needs; None when the run predates them."""
    if any(task.needs is None for task in detail.tasks):
        return None
    names = {task.name for task in detail.tasks}
    tasks = {
        task.name: TaskSpec(
            name=task.name,
            run="",
            needs=tuple(need for need in task.needs or () if need in names),
        )
        for task in detail.tasks
    }
    return PipelineSpec(name=detail.run.pipeline, tasks=tasks)


def fallback_graph(detail: RunDetail, declared: PipelineSpec | None) -> tuple[PipelineSpec, str]:
    """For a run without recorded needs: the declared pipeline if it still has the run's
    tasks, else its tasks unconnected. The note says which (empty when nothing is amiss)."""
    names = [task.name for task in detail.tasks]
    if declared is not None and set(declared.tasks) == set(names):
        return declared, ""
    tasks = {name: TaskSpec(name=name, run="") for name in names}
    why = "is no longer declared" if declared is None else "has changed since"
    note = f"pipeline {detail.run.pipeline!r} {why}: tasks shown without their edges"
    return PipelineSpec(name=detail.run.pipeline, tasks=tasks), note
