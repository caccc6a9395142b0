"""A Runner adapter that pins every timestamp to a fixed grid, for snapshots and screenshots.

Everything else passes through to the real runner underneath, so what is shown is a real
run of real pipelines; only wall-clock times (which differ on every execution) are replaced.
Model versions get their run's slot on the same grid. Deploy history, environment and alias
times pass through: pin them by giving the runner's deployments a deterministic clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from shipdeck.model import (
    FailureStreak,
    LogChunk,
    ModelVersion,
    Run,
    RunDetail,
    RunPage,
    TaskRun,
)
from shipdeck.runners.delegating import DelegatingRunner

BASE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
RUN_SPACING = timedelta(minutes=7)
TASK_SLOT = timedelta(seconds=2)
TASK_LENGTH = timedelta(seconds=1, milliseconds=500)
LINE_SPACING = timedelta(milliseconds=250)


def frozen_clock(moment: datetime) -> Callable[[], datetime]:
    """A clock that always answers `moment` (snapshots and screenshots)."""
    return lambda: moment


def frozen_now(runs: int) -> datetime:
    """A clock reading a little after the last of `runs` runs."""
    return BASE + RUN_SPACING * runs + timedelta(minutes=2)


def _run(run: Run) -> Run:
    created = BASE + RUN_SPACING * (int(run.id) - 1)  # the engine's ids: run numbers
    started = created + timedelta(seconds=1) if run.started_at else None
    finished = None
    if run.finished_at and started:
        finished = started + TASK_SLOT * max(run.tasks_total, 1)
    return run.model_copy(
        update={"created_at": created, "started_at": started, "finished_at": finished}
    )


def _task(task: TaskRun, slot: int) -> TaskRun:
    start = BASE + RUN_SPACING * (int(task.run_id) - 1) + timedelta(seconds=1) + TASK_SLOT * slot
    return task.model_copy(
        update={
            "started_at": start if task.started_at else None,
            "finished_at": start + TASK_LENGTH if task.finished_at else None,
        }
    )


class FrozenTimes(DelegatingRunner):
    """Wraps a Runner; answers as it does, with deterministic timestamps."""

    async def start_run(self, *args: Any, **kwargs: Any) -> Run:
        return _run(await self.inner.start_run(*args, **kwargs))

    async def rerun(self, *args: Any, **kwargs: Any) -> Run:
        return _run(await self.inner.rerun(*args, **kwargs))

    async def cancel(self, *args: Any, **kwargs: Any) -> Run:
        return _run(await self.inner.cancel(*args, **kwargs))

    async def wait_run(self, *args: Any, **kwargs: Any) -> Run:
        return _run(await self.inner.wait_run(*args, **kwargs))

    async def runs(self, *args: Any, **kwargs: Any) -> list[Run]:
        return [_run(run) for run in await self.inner.runs(*args, **kwargs)]

    async def runs_page(self, *args: Any, **kwargs: Any) -> RunPage:
        page = await self.inner.runs_page(*args, **kwargs)
        return RunPage(runs=[_run(run) for run in page.runs], total=page.total)

    async def failures(self, *args: Any, **kwargs: Any) -> list[FailureStreak]:
        streaks = await self.inner.failures(*args, **kwargs)
        return [s.model_copy(update={"run": _run(s.run)}) for s in streaks]

    async def run(self, *args: Any, **kwargs: Any) -> RunDetail:
        detail = await self.inner.run(*args, **kwargs)
        tasks = [_task(task, slot) for slot, task in enumerate(detail.tasks)]
        metrics = [
            m.model_copy(update={"ts": BASE + LINE_SPACING * i})
            for i, m in enumerate(detail.metrics)
        ]
        inputs = [item.model_copy(update={"mtime": BASE}) for item in detail.lineage.inputs]
        lineage = detail.lineage.model_copy(update={"inputs": inputs})
        return RunDetail(run=_run(detail.run), tasks=tasks, metrics=metrics, lineage=lineage)

    async def read_log(self, *args: Any, **kwargs: Any) -> LogChunk:
        chunk = await self.inner.read_log(*args, **kwargs)
        lines = [
            line.model_copy(update={"ts": BASE + LINE_SPACING * line.n}) for line in chunk.lines
        ]
        return chunk.model_copy(update={"lines": lines})

    async def model_versions(self, *args: Any, **kwargs: Any) -> list[ModelVersion]:
        versions = await self.inner.model_versions(*args, **kwargs)
        return [
            v.model_copy(update={"created_at": BASE + RUN_SPACING * int(v.run_id)})
            for v in versions
        ]
