"""What the list views show, fetched from a runner in one go, and event payload decoding."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from shipdeck.model import (
    Event,
    EventKind,
    LogLine,
    LogStream,
    PipelineSpec,
    Run,
    RunDetail,
    RunStatus,
    TaskRun,
)
from shipdeck.runners.protocol import Runner

STRIP_RUNS = 20
LIST_RUNS = 200
FAILURES_SHOWN = 5


@dataclass(frozen=True)
class Snapshot:
    """An immutable picture of a runner's pipelines and runs, handed to the views."""

    pipelines: list[PipelineSpec]
    runs: list[Run]
    """Newest first."""
    history: dict[str, list[Run]] = field(default_factory=dict)
    """Per pipeline: its latest runs, newest first."""
    details: dict[int, RunDetail] = field(default_factory=dict)
    """Tasks of the failures and active runs the overview shows."""

    @property
    def active(self) -> list[Run]:
        return [r for r in self.runs if not r.status.finished]

    @property
    def failures(self) -> list[Run]:
        """Recent runs that failed (or died), where no later run of the pipeline succeeded."""
        fixed: set[str] = set()
        result: list[Run] = []
        for run in self.runs:
            if run.status == RunStatus.SUCCEEDED:
                fixed.add(run.pipeline)
            elif (
                run.status in (RunStatus.FAILED, RunStatus.INTERRUPTED)
                and run.pipeline not in fixed
            ):
                result.append(run)
        return result[:FAILURES_SHOWN]

    def latest(self, pipeline: str) -> Run | None:
        runs = self.history.get(pipeline)
        return runs[0] if runs else None


async def load_snapshot(runner: Runner, pipelines: list[PipelineSpec] | None = None) -> Snapshot:
    if pipelines is None:
        pipelines = await runner.pipelines()
    runs, *histories = await asyncio.gather(
        runner.runs(limit=LIST_RUNS),
        *(runner.runs(pipeline=p.name, limit=STRIP_RUNS) for p in pipelines),
    )
    history = {p.name: h for p, h in zip(pipelines, histories, strict=True)}
    snapshot = Snapshot(pipelines=pipelines, runs=runs, history=history)
    wanted = [r.id for r in snapshot.failures] + [r.id for r in snapshot.active[:FAILURES_SHOWN]]
    details = await asyncio.gather(*(runner.run(i) for i in wanted), return_exceptions=True)
    for detail in details:
        if isinstance(detail, RunDetail):
            snapshot.details[detail.run.id] = detail
    return snapshot


def event_task(event: Event) -> TaskRun | None:
    if event.kind != EventKind.TASK:
        return None
    try:
        return TaskRun.model_validate(event.data)
    except ValueError:
        return None


def event_run(event: Event) -> Run | None:
    if event.kind != EventKind.RUN:
        return None
    try:
        return Run.model_validate(event.data)
    except ValueError:
        return None


def event_log_line(event: Event) -> LogLine | None:
    if event.kind != EventKind.LOG:
        return None
    data = event.data
    try:
        return LogLine(
            n=int(data["n"]),
            ts=event.ts,
            stream=LogStream(data.get("stream", "out")),
            text=str(data.get("text", "")),
        )
    except (KeyError, ValueError, TypeError):
        return None
