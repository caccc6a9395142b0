"""Runs of pipelines, the tasks inside them, and the metrics they report."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from shipdeck.errors import InvalidInput
from shipdeck.model.frozen import FrozenModel
from shipdeck.model.ids import Id, run_label
from shipdeck.model.lineage import Lineage
from shipdeck.model.pipeline import ParamValue
from shipdeck.model.triggers import RunCause

MAX_ID = 2**53
"""No run id or model version goes past this: JSON clients lose precision beyond it, and
SQLite's integers (2**63) would overflow on the way to the store."""


def parse_id(digits: str, what: str) -> int | None:
    """`digits` as an id, None when it is not ASCII digits (int() also reads '٣', isdigit()
    also passes '²'); InvalidInput, naming `what`, for a number no id can be."""
    if not (digits.isascii() and digits.isdigit()):
        return None
    value = int(digits)
    if value > MAX_ID:
        raise InvalidInput(f"{what}: too large, no id goes past {MAX_ID}")
    return value


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    """Still running, asked to stop: its runner has not stopped it yet (a Prefect worker
    takes seconds). A filter on `running` includes these runs."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    """The process that owned the run died before the run finished."""

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.CANCELLING)


class TaskStatus(StrEnum):
    PENDING = "pending"
    """Waiting for its needs or for a free slot."""
    RUNNING = "running"
    RETRYING = "retrying"
    """An attempt failed; waiting for the retry delay before the next attempt."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not run because something it needs did not succeed."""
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self not in (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.RETRYING)

    @property
    def done(self) -> bool:
        """It ran to an end: succeeded or failed (a skipped or cancelled task is not done)."""
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)


class RerunMode(StrEnum):
    ALL = "all"
    FAILED = "failed"
    """Failed, cancelled, interrupted and skipped tasks, with their downstream."""
    FROM = "from"
    """A chosen task and its downstream."""


class TaskRun(FrozenModel):
    """One task inside one run."""

    run_id: Id
    name: str
    status: TaskStatus = TaskStatus.PENDING
    attempts: int = 0
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reason: str | None = None
    """Why it ended as it did: "exit 1", "timed out after 10s", "skipped: build failed"."""
    reused_from: Id | None = None
    """Set when a rerun kept this task's result from an earlier run instead of running it."""
    needs: list[str] | None = None
    """The tasks it needed in this run, as its pipeline declared them when the run started
    (None for runs recorded before shipdeck kept them): the run's own DAG, drawable even
    after the pipeline changed or for a run of an undeclared pipeline (a deploy)."""

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at
        if end is None:
            return None
        return (end - self.started_at).total_seconds()


class Run(FrozenModel):
    """One execution of a pipeline."""

    id: Id
    """Opaque: the embedded engine's run number as text (`"12"`), or another runner's own id."""
    pipeline: str
    status: RunStatus
    params: dict[str, ParamValue] = Field(default_factory=dict)
    trigger: str = "cli"
    user: str = ""
    """user@host of whoever started it."""
    parent_id: Id | None = None
    rerun_mode: RerunMode | None = None
    rerun_from: str | None = None
    jobs: int = 1
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    tasks_total: int = 0
    tasks_done: int = 0
    """Tasks that ran to an end (`TaskStatus.done`), as `RunDetail.tally` counts them."""
    cause: RunCause | None = None
    """What started it, for a run a schedule or trigger started (its `trigger` says it in
    short: `schedule 03:00 CEST`, `after ingest #12`, `changed data/a.csv`)."""
    label: str = ""
    """What front ends print for it: `#12` for the embedded engine, a runner's own short form
    (a Prefect flow-run name, an MLflow run id's first 8 digits). Unset: `run_label(id)`."""

    @model_validator(mode="after")
    def _labelled(self) -> Self:
        if not self.label:
            self.__dict__["label"] = run_label(self.id)
        return self

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class RunPage(FrozenModel):
    """Runs matching a filter, newest first, and how many match in all."""

    runs: list[Run]
    total: int
    """Every matching run, not only this page's (`before` aside: it counts from the newest)."""
    exact: bool = True
    """False when the runner cannot count (MLflow): `total` is then this page's runs and one
    more, saying that more follow."""


class FailureStreak(FrozenModel):
    """Failures not followed by a success: the newest of them and how many there are.

    One per pipeline; a service's deploy runs one per environment (`env`)."""

    run: Run
    """The newest failed or interrupted run."""
    count: int
    """Failed or interrupted runs since the last success (or ever, with none)."""

    @property
    def env(self) -> str | None:
        """The environment of a deploy run's streak."""
        env = self.run.params.get("env")
        return env if isinstance(env, str) and self.run.pipeline.startswith("deploy:") else None


class Metric(FrozenModel):
    """A value a task reported: `::metric key=value step=N` or a JSON line in $SHIPDECK_METRICS."""

    run_id: Id
    task: str
    key: str
    value: float
    step: int | None = None
    ts: datetime


class RunDetail(FrozenModel):
    """A run with its tasks (in pipeline order) and every metric it reported."""

    run: Run
    tasks: list[TaskRun]
    metrics: list[Metric] = Field(default_factory=list)
    lineage: Lineage = Field(default_factory=Lineage)
    """The code and data the run used (empty for runners and runs that do not record it)."""

    def task(self, name: str) -> TaskRun | None:
        return next((t for t in self.tasks if t.name == name), None)

    def tally(self) -> str:
        """`3/5 done · 2 skipped`: the tasks that ran to an end (succeeded or failed) of all,
        then those that never ran, each kind said apart (a skipped task is not done)."""
        total = max(self.run.tasks_total, len(self.tasks))
        counts = {status: 0 for status in TaskStatus}
        for task in self.tasks:
            counts[task.status] += 1
        done = sum(counts[status] for status in TaskStatus if status.done)
        apart = (TaskStatus.SKIPPED, TaskStatus.CANCELLED, TaskStatus.INTERRUPTED)
        return " · ".join(
            [f"{done}/{total} done"] + [f"{counts[s]} {s.value}" for s in apart if counts[s]]
        )

    def final_metrics(self) -> dict[str, float]:
        """The last value reported for each metric key (the highest step wins).

        A key that several tasks report (test shards each saying `tests`) is kept per task,
        as `TASK.KEY`: one value for the run would be whichever task finished last, and two
        runs that differ only in finishing order would compare as a change."""
        best: dict[tuple[str, str], tuple[int, float]] = {}
        for index, metric in enumerate(self.metrics):
            rank = metric.step if metric.step is not None else index
            current = best.get((metric.task, metric.key))
            if current is None or rank >= current[0]:
                best[(metric.task, metric.key)] = (rank, metric.value)
        reporters = Counter(key for _, key in best)
        return {
            key if reporters[key] == 1 else f"{task}.{key}": value
            for (task, key), (_, value) in best.items()
        }
