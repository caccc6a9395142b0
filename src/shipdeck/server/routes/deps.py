"""What route handlers get from the app: the runner, and the read-only guard for actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shipdeck.errors import NotFound, Refused, Unavailable
from shipdeck.runners.protocol import DeployRunner, Runner, ScheduleRunner

# The dependencies are coroutines: FastAPI runs a plain `def` dependency in a worker thread,
# a thread hop on every request for what is an attribute read.


async def get_runner(request: Request) -> Runner:
    runner: Runner | None = request.app.state.runner
    if runner is None:
        raise Unavailable("this server has no runner attached")
    return runner


async def require_writable(request: Request) -> None:
    if request.app.state.read_only:
        raise Refused("this runner is read-only: actions are disabled")


RunnerDep = Annotated[Runner, Depends(get_runner)]
WRITABLE = [Depends(require_writable)]


async def get_deploy_runner(request: Request) -> DeployRunner:
    runner = await get_runner(request)
    if not isinstance(runner, DeployRunner):
        raise NotFound(f"the {runner.name} runner does not offer models and deployments")
    return runner


DeployRunnerDep = Annotated[DeployRunner, Depends(get_deploy_runner)]


async def get_schedule_runner(request: Request) -> ScheduleRunner:
    runner = await get_runner(request)
    if not isinstance(runner, ScheduleRunner):
        raise NotFound(f"the {runner.name} runner does not offer schedules")
    return runner


ScheduleRunnerDep = Annotated[ScheduleRunner, Depends(get_schedule_runner)]
