"""Schedules and triggers: list them, pause and resume them (recorded, with who)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from shipdeck.model import ScheduleAction, ScheduleList
from shipdeck.server.routes.deps import WRITABLE, RunnerDep

router = APIRouter(prefix="/v1", tags=["schedules"])

ScheduleName = Annotated[str, Path(min_length=1, max_length=210)]


class Why(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


@router.get("/schedules")
async def schedules(runner: RunnerDep) -> ScheduleList:
    """Every schedule and trigger: next fire time, last run, paused state (and by whom)."""
    return await runner.schedules()


@router.post("/schedules/{name}/pause", dependencies=WRITABLE)
async def pause(name: ScheduleName, runner: RunnerDep, body: Why | None = None) -> ScheduleAction:
    """Pause a trigger (`PIPELINE.KIND`) or every trigger of a pipeline (`PIPELINE`)."""
    return await runner.pause_schedule(name, reason=body.reason if body else "")


@router.post("/schedules/{name}/resume", dependencies=WRITABLE)
async def resume(name: ScheduleName, runner: RunnerDep, body: Why | None = None) -> ScheduleAction:
    """Resume it from now on: what came due while it was paused does not fire."""
    return await runner.resume_schedule(name, reason=body.reason if body else "")
