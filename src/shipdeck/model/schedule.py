"""Schedules as a runner lists them: next fire time, last run, paused state."""

from __future__ import annotations

from datetime import datetime

from shipdeck.model.frozen import FrozenModel
from shipdeck.model.ids import Id
from shipdeck.model.run import RunStatus
from shipdeck.model.triggers import TriggerKind


class ScheduleInfo(FrozenModel):
    """One schedule or trigger as `shipdeck schedules` lists it."""

    name: str
    """`PIPELINE.KIND`: what `shipdeck schedules pause` takes (or the pipeline's name)."""
    pipeline: str
    """What it starts: a pipeline, or `monitor:NAME` for a monitor's checks."""
    kind: TriggerKind
    rule: str
    """The declaration as written: `0 3 * * 1-5 (Europe/Berlin)`, `every 6h`, `data/*.csv`."""
    explained: str = ""
    """The rule in words, for cron expressions."""
    timezone: str = "UTC"
    """The zone a cron `schedule` is evaluated in (UTC for the other kinds)."""
    next_at: datetime | None = None
    """When it fires next (schedule and every; None while paused or for event triggers)."""
    catchup: bool = False
    last_run: Id | None = None
    last_status: RunStatus | None = None
    last_fired_at: datetime | None = None
    paused: bool = False
    paused_as: str | None = None
    """The name that was paused: the trigger's own or its pipeline's."""
    paused_by: str | None = None
    paused_at: datetime | None = None
    paused_reason: str = ""
    monitor: str | None = None
    """The monitor whose checks it starts (None for a pipeline's trigger)."""


class ScheduleList(FrozenModel):
    """Every schedule and trigger of a runner, and whether a process is firing them."""

    schedules: list[ScheduleInfo]
    scheduler_pid: int | None = None
    """The process that fires them (it holds the workspace's scheduler lock); None when no
    process does: they fire only while the workspace's runner (daemon or serve) runs."""


class ScheduleAction(FrozenModel):
    """A pause or a resume, as recorded."""

    name: str
    action: str
    """`pause` or `resume`."""
    user: str
    at: datetime
    reason: str = ""
