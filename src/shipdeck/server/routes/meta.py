"""Health: who this runner is, so clients can show reachability, version and latency."""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

from fastapi import APIRouter, Request
from pydantic import Field

from shipdeck import __version__
from shipdeck.model.capabilities import Capabilities, EventDelivery
from shipdeck.model.health import RunnerHealth
from shipdeck.server.routes.deps import RunnerDep

router = APIRouter(prefix="/v1", tags=["meta"])


@runtime_checkable
class ExecutingRunner(Protocol):
    """A runner that executes runs itself (the local runner), rather than a client of one: not
    part of the contract, but what health reports (stopping the server cancels them)."""

    def executing(self) -> list[int]:
        """The runs it executes now, queued or running: closing it cancels them."""
        ...


@runtime_checkable
class ConfiguredRunner(Protocol):
    """A runner that follows a workspace file itself (the local runner): not part of the
    contract, but what health reports while that file does not load."""

    def config_problems(self) -> list[str]:
        """Why the workspace file does not load now ([] when it does)."""
        ...


class Health(RunnerHealth):
    active_runs: list[str]
    """The runs this runner executes now, queued or running (stopping it cancels them)."""
    capabilities: Capabilities
    """What the runner can do (read-only when this server is); clients offer only that."""
    config_problems: list[str] = Field(default_factory=list)
    """Why the workspace file does not load now (`file:line: message` each; empty when it
    does): meanwhile the runner fires schedules, monitor checks and health checks with the
    last configuration that loaded, and refuses runs and deploys a person starts."""


@router.get("/health")
async def health(request: Request, runner: RunnerDep) -> Health:
    read_only: bool = request.app.state.read_only
    declared = await runner.capabilities()
    if read_only:
        declared = declared.read_only_copy()
    return Health(
        name=runner.name,
        version=__version__,
        pid=os.getpid(),
        started_at=request.app.state.started_at,
        read_only=declared.read_only,
        last_seq=0 if declared.events == EventDelivery.NONE else await runner.last_seq(),
        active_runs=runner.executing() if isinstance(runner, ExecutingRunner) else [],
        capabilities=declared,
        config_problems=runner.config_problems() if isinstance(runner, ConfiguredRunner) else [],
    )
