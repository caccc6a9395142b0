"""MLflow's objects as shipdeck's model: experiments as pipelines, runs as runs, child runs as
the run's graph, metric histories as metrics by step, registered models and versions.

Pure functions: no I/O. What MLflow does not know is left empty, never invented: a version has
no artifact digest, a run no trigger but "mlflow", an experiment no declared DAG or params.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from shipdeck.model import (
    Metric,
    ModelSummary,
    ModelVersion,
    PipelineSpec,
    Run,
    RunDetail,
    RunStatus,
    TaskRun,
    TaskStatus,
)
from shipdeck.runners.mlflow import api

STATUS = {
    "SCHEDULED": RunStatus.QUEUED,
    "RUNNING": RunStatus.RUNNING,
    "FINISHED": RunStatus.SUCCEEDED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.CANCELLED,
}
TASK_STATUS = {
    "SCHEDULED": TaskStatus.PENDING,
    "RUNNING": TaskStatus.RUNNING,
    "FINISHED": TaskStatus.SUCCEEDED,
    "FAILED": TaskStatus.FAILED,
    "KILLED": TaskStatus.CANCELLED,
}
STATUS_FILTER = {status: mlflow for mlflow, status in STATUS.items()}
"""shipdeck's status -> MLflow's, for searches (interrupted has no MLflow counterpart)."""
TRIGGER = "mlflow"
"""A run's trigger: MLflow does not say what started a run, only its source (tags)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def when(millis: int | None) -> datetime | None:
    return None if millis is None else datetime.fromtimestamp(millis / 1000, UTC)


def label(run_id: str) -> str:
    """What a person reads: the first 8 hex digits of MLflow's 32."""
    return run_id[:8]


def pipeline(experiment: api.Experiment) -> PipelineSpec:
    tags = {tag.key: tag.value for tag in experiment.tags}
    return PipelineSpec(name=experiment.name, description=tags.get("mlflow.note.content", ""))


def user(run: api.MlflowRun) -> str:
    return run.tags.get("mlflow.user") or run.info.user_id


def run(found: api.MlflowRun, experiment: str) -> Run:
    """`experiment` is the name of the run's experiment (its pipeline)."""
    info = found.info
    created = when(info.start_time) or EPOCH
    return Run(
        id=info.run_id,
        label=label(info.run_id),
        pipeline=experiment,
        status=STATUS.get(info.status, RunStatus.RUNNING),
        params=dict(found.params),
        trigger=TRIGGER,
        user=user(found),
        parent_id=found.parent_id,
        created_at=created,
        started_at=when(info.start_time),
        finished_at=when(info.end_time),
    )


def child_task(child: api.MlflowRun) -> TaskRun:
    """A child run as a node of its parent's graph, named after it (its label if unnamed)."""
    info = child.info
    return TaskRun(
        run_id=info.run_id,
        name=info.run_name or label(info.run_id),
        status=TASK_STATUS.get(info.status, TaskStatus.RUNNING),
        attempts=1,
        started_at=when(info.start_time),
        finished_at=when(info.end_time),
        needs=[],
    )


def metrics(run_id: str, histories: Iterable[api.Metric]) -> list[Metric]:
    """Metric values by step (a run's own metrics belong to no task: `task` is "")."""
    return [
        Metric(
            run_id=run_id,
            task="",
            key=value.key,
            value=value.value,
            step=value.step,
            ts=when(value.timestamp) or EPOCH,
        )
        for value in histories
    ]


def latest_metrics(found: api.MlflowRun) -> list[Metric]:
    """The latest value of each metric, at its step: what a run search returns."""
    return metrics(found.info.run_id, found.data.metrics)


def detail(
    found: api.MlflowRun,
    experiment: str,
    children: list[api.MlflowRun],
    histories: Iterable[api.Metric] | None = None,
) -> RunDetail:
    """A run with its child runs as tasks and its metrics (full histories when given)."""
    values = (
        metrics(found.info.run_id, histories) if histories is not None else latest_metrics(found)
    )
    tasks = [child_task(child) for child in sorted(children, key=_started)]
    return RunDetail(run=run(found, experiment), tasks=tasks, metrics=values)


def _started(found: api.MlflowRun) -> tuple[int, str]:
    return (found.info.start_time or 0, found.info.run_id)


def version(
    found: api.ModelVersion,
    aliases: list[str],
    source: api.MlflowRun | None,
) -> ModelVersion:
    """A registered version with its source run's params and latest metrics (none when the
    version came from outside a run, or its run is gone)."""
    return ModelVersion(
        model=found.name,
        version=found.version,
        label=f"v{found.version}",
        run_id=found.run_id,
        task="",
        params=dict(source.params) if source is not None else {},
        metrics=dict(source.metrics) if source is not None else {},
        sha256="",
        source=found.source,
        created_at=when(found.creation_timestamp) or EPOCH,
        aliases=sorted(aliases),
    )


def aliases_by_version(model: api.RegisteredModel) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for alias in model.aliases:
        found.setdefault(alias.version, []).append(alias.alias)
    return found


def summary(model: api.RegisteredModel, versions: list[api.ModelVersion]) -> ModelSummary:
    numbers = [v.version for v in versions]
    latest = max(numbers, key=_version_order, default="")
    return ModelSummary(
        name=model.name,
        versions=len(versions),
        latest=latest,
        aliases={alias.alias: alias.version for alias in model.aliases},
    )


def _version_order(number: str) -> tuple[int, str]:
    return (int(number), number) if number.isdigit() else (-1, number)
