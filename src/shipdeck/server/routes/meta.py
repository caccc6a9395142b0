"""Health: who this runner is, so clients can show reachability, version and latency."""

from __future__ import annotations

import os
from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from shipdeck import __version__
from shipdeck.runners.protocol import DeployRunner, ExecutingRunner, Runner, ScheduleRunner
from shipdeck.server.routes.deps import RunnerDep

router = APIRouter(prefix="/v1", tags=["meta"])


class Health(BaseModel):
    name: str
    version: str
    pid: int
    started_at: datetime
    read_only: bool
    last_seq: int
    active_runs: list[str]
    """The runs this runner executes now, queued or running (stopping it cancels them)."""
    capabilities: list[str]
    """The optional halves of the runner contract it offers: "deployments" (models and
    deployments), "schedules" (schedules and triggers)."""


@router.get("/health")
async def health(request: Request, runner: RunnerDep) -> Health:
    return Health(
        name=runner.name,
        version=__version__,
        pid=os.getpid(),
        started_at=request.app.state.started_at,
        read_only=request.app.state.read_only,
        last_seq=await runner.last_seq(),
        active_runs=runner.executing() if isinstance(runner, ExecutingRunner) else [],
        capabilities=capabilities(runner),
    )


def capabilities(runner: Runner) -> list[str]:
    offered = {"deployments": DeployRunner, "schedules": ScheduleRunner}
    return [name for name, half in offered.items() if isinstance(runner, half)]
