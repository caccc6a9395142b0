"""What the list views show, fetched from a runner in one go."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from shipdeck.errors import ShipdeckError
from shipdeck.model import (
    Alert,
    FailureStreak,
    PipelineSpec,
    Run,
    RunDetail,
    RunStatus,
)
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner

STRIP_RUNS = 20
RECENT_RUNS = 20
ACTIVE_RUNS = 200
"""Runs in progress listed per status (queued, running)."""
FAILURE_STREAKS = 20
OPEN_ALERTS = 8
DETAILS_SHOWN = 8
"""Runs whose tasks are fetched, of the failures and of the runs in progress: what the
overview can show with their failed or running tasks."""


@dataclass(frozen=True)
class Snapshot:
    """An immutable picture of a runner's pipelines and runs, handed to the views."""

    pipelines: list[PipelineSpec]
    runs: list[Run]
    """The newest runs, newest first."""
    active: list[Run] = field(default_factory=list)
    """Every run queued or running, newest first (the runner filters them, however old)."""
    failures: list[FailureStreak] = field(default_factory=list)
    """Failures no success followed, newest first: per pipeline (deploys: per environment)."""
    history: dict[str, list[Run]] = field(default_factory=dict)
    """Per pipeline: its latest runs, newest first."""
    details: dict[str, RunDetail] = field(default_factory=dict)
    """Tasks of the failures and active runs the overview shows."""
    alerts: list[Alert] = field(default_factory=list)
    """Open alerts of the runner's monitors, newest first (shown above the failures)."""

    def latest(self, pipeline: str) -> Run | None:
        runs = self.history.get(pipeline)
        return runs[0] if runs else None

    def find(self, run_id: str) -> Run | None:
        """A run this snapshot holds, wherever it is listed."""
        listed = [*self.runs, *self.active, *(s.run for s in self.failures)]
        listed += [run for runs in self.history.values() for run in runs]
        return next((run for run in listed if run.id == run_id), None)


async def load_snapshot(runner: Runner, pipelines: list[PipelineSpec] | None = None) -> Snapshot:
    """The runner's pipelines and runs; empty for a runner without pipelines (a model
    registry), without failure streaks for one that does not keep them."""
    can = (await runner.capabilities()).can
    if Capability.PIPELINES not in can:
        return Snapshot(pipelines=[], runs=[])
    if pipelines is None:
        pipelines = await runner.pipelines()
    (recent, running, queued, failures), histories, alerts = await asyncio.gather(
        asyncio.gather(
            runner.runs(limit=RECENT_RUNS),
            runner.runs(status=RunStatus.RUNNING, limit=ACTIVE_RUNS),
            runner.runs(status=RunStatus.QUEUED, limit=ACTIVE_RUNS),
            _failures(runner, Capability.FAILURES in can),
        ),
        asyncio.gather(*(runner.runs(pipeline=p.name, limit=STRIP_RUNS) for p in pipelines)),
        _open_alerts(runner),
    )
    active = sorted([*running, *queued], key=lambda run: run.created_at, reverse=True)
    history = {p.name: h for p, h in zip(pipelines, histories, strict=True)}
    snapshot = Snapshot(
        pipelines=pipelines,
        runs=recent,
        active=active,
        failures=failures,
        history=history,
        alerts=alerts,
    )
    wanted = [s.run.id for s in failures[:DETAILS_SHOWN]] + [r.id for r in active[:DETAILS_SHOWN]]
    details = await asyncio.gather(*(runner.run(i) for i in wanted), return_exceptions=True)
    for detail in details:
        if isinstance(detail, RunDetail):
            snapshot.details[detail.run.id] = detail
    return snapshot


async def _open_alerts(runner: Runner) -> list[Alert]:
    """The runner's open alerts; none from a runner without monitors (or too old to have
    them: the rest of the snapshot does not wait on that)."""
    if Capability.MONITORS not in (await runner.capabilities()).can:
        return []
    try:
        return await runner.alerts(open_only=True, limit=OPEN_ALERTS)
    except ShipdeckError:
        return []


async def _failures(runner: Runner, kept: bool) -> list[FailureStreak]:
    return await runner.failures(limit=FAILURE_STREAKS) if kept else []
