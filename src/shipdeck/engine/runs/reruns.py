"""Which tasks a rerun executes; the others keep the results of the run being rerun."""

from __future__ import annotations

from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import PipelineSpec, RerunMode, TaskRun, TaskStatus


def rerun_plan(
    pipeline: PipelineSpec,
    previous: dict[str, TaskRun],
    mode: RerunMode = RerunMode.ALL,
    from_task: str | None = None,
) -> list[str]:
    """Tasks to execute, in pipeline order. Tasks the earlier run lacks always run.

    A rerun from a task also runs the tasks upstream of it that did not succeed (failed,
    cancelled, skipped, interrupted), with their downstream: kept as they were, they would
    skip the task asked for and everything after it, a run certain to do nothing.
    """
    missing = {name for name in pipeline.tasks if name not in previous}
    if mode is RerunMode.ALL:
        roots = set(pipeline.tasks)
    elif mode is RerunMode.FAILED:
        roots = missing | not_succeeded(pipeline, previous)
    else:
        if not from_task:
            raise InvalidInput("a rerun 'from' a task needs the task's name")
        if from_task not in pipeline.tasks:
            raise NotFound(f"pipeline {pipeline.name!r} has no task {from_task!r}")
        roots = (
            missing
            | {from_task}
            | (pipeline.upstream(from_task) & not_succeeded(pipeline, previous))
        )
    if mode is not RerunMode.FROM and from_task is not None:
        raise InvalidInput(f"a task name ({from_task!r}) only goes with a rerun 'from' a task")
    selected = pipeline.downstream(roots)
    return [name for name in pipeline.tasks if name in selected]


def not_succeeded(pipeline: PipelineSpec, previous: dict[str, TaskRun]) -> set[str]:
    """The pipeline's tasks that the earlier run has, with any end but success."""
    return {
        name
        for name in pipeline.tasks
        if name in previous and previous[name].status != TaskStatus.SUCCEEDED
    }
