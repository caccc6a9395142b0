"""A Runner adapter that pins every timestamp to a fixed grid, for snapshots and screenshots.

Everything else passes through to the real runner underneath, so what is shown is a real
run of real pipelines; only wall-clock times (which differ on every execution) are replaced.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shipdeck.model import (
    EventPage,
    FailureStreak,
    LogChunk,
    LogSearchPage,
    PipelineSpec,
    RerunMode,
    Run,
    RunDetail,
    RunPage,
    RunStatus,
    TaskRun,
)
from shipdeck.runners.protocol import Runner

BASE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
RUN_SPACING = timedelta(minutes=7)
TASK_SLOT = timedelta(seconds=2)
TASK_LENGTH = timedelta(seconds=1, milliseconds=500)
LINE_SPACING = timedelta(milliseconds=250)


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


class FrozenTimes:
    """Wraps a Runner; answers as it does, with deterministic timestamps."""

    def __init__(self, runner: Runner) -> None:
        self.inner = runner

    @property
    def name(self) -> str:
        return self.inner.name

    async def pipelines(self) -> list[PipelineSpec]:
        return await self.inner.pipelines()

    async def start_run(
        self,
        pipeline: str,
        params: dict[str, str] | None = None,
        *,
        jobs: int | None = None,
        trigger: str = "cli",
    ) -> Run:
        return _run(await self.inner.start_run(pipeline, params, jobs=jobs, trigger=trigger))

    async def rerun(
        self,
        run_id: str,
        mode: RerunMode = RerunMode.ALL,
        *,
        from_task: str | None = None,
        jobs: int | None = None,
        trigger: str = "cli",
    ) -> Run:
        run = await self.inner.rerun(run_id, mode, from_task=from_task, jobs=jobs, trigger=trigger)
        return _run(run)

    async def rerun_plan(
        self, run_id: str, mode: RerunMode = RerunMode.ALL, *, from_task: str | None = None
    ) -> list[str]:
        return await self.inner.rerun_plan(run_id, mode, from_task=from_task)

    async def cancel(self, run_id: str) -> Run:
        return _run(await self.inner.cancel(run_id))

    async def runs(
        self,
        *,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        text: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[Run]:
        runs = await self.inner.runs(
            pipeline=pipeline, status=status, text=text, limit=limit, before=before
        )
        return [_run(run) for run in runs]

    async def runs_page(
        self,
        *,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        text: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> RunPage:
        page = await self.inner.runs_page(
            pipeline=pipeline, status=status, text=text, limit=limit, before=before
        )
        return RunPage(runs=[_run(run) for run in page.runs], total=page.total)

    async def failures(self, *, limit: int = 20) -> list[FailureStreak]:
        streaks = await self.inner.failures(limit=limit)
        return [s.model_copy(update={"run": _run(s.run)}) for s in streaks]

    async def run(self, run_id: str) -> RunDetail:
        detail = await self.inner.run(run_id)
        tasks = [_task(task, slot) for slot, task in enumerate(detail.tasks)]
        metrics = [
            m.model_copy(update={"ts": BASE + LINE_SPACING * i})
            for i, m in enumerate(detail.metrics)
        ]
        inputs = [item.model_copy(update={"mtime": BASE}) for item in detail.lineage.inputs]
        lineage = detail.lineage.model_copy(update={"inputs": inputs})
        return RunDetail(run=_run(detail.run), tasks=tasks, metrics=metrics, lineage=lineage)

    async def resolve_run(self, ref: str) -> str:
        return await self.inner.resolve_run(ref)

    async def read_log(
        self, run_id: str, task: str, *, start: int = 0, limit: int | None = 1000
    ) -> LogChunk:
        chunk = await self.inner.read_log(run_id, task, start=start, limit=limit)
        lines = [
            line.model_copy(update={"ts": BASE + LINE_SPACING * line.n}) for line in chunk.lines
        ]
        return chunk.model_copy(update={"lines": lines})

    async def search_log(
        self,
        run_id: str,
        task: str,
        pattern: str,
        *,
        regex: bool = False,
        ignore_case: bool | None = None,
        start: int = 0,
        end: int | None = None,
        limit: int = 10_000,
    ) -> LogSearchPage:
        return await self.inner.search_log(
            run_id,
            task,
            pattern,
            regex=regex,
            ignore_case=ignore_case,
            start=start,
            end=end,
            limit=limit,
        )

    async def wait_events(self, after: int, *, wait: float = 15.0, limit: int = 5000) -> EventPage:
        return await self.inner.wait_events(after, wait=wait, limit=limit)

    async def last_seq(self) -> int:
        return await self.inner.last_seq()

    async def wait_run(self, run_id: str) -> Run:
        return _run(await self.inner.wait_run(run_id))

    async def close(self) -> None:
        await self.inner.close()
