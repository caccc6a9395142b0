"""Monitors and alerts: list monitors and their checks, run a check, list and acknowledge
alerts (recorded, with who)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from shipdeck.model import Alert, MonitorCheck, MonitorInfo
from shipdeck.server.routes.deps import MAX_ID, WRITABLE, RunnerDep
from shipdeck.server.routes.params import Limit

router = APIRouter(prefix="/v1", tags=["monitors"])

MonitorName = Annotated[str, Path(min_length=1, max_length=100)]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_NOTE = 2000


class Acknowledge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=MAX_NOTE)
    """Why, for the record (what is being done about it)."""


@router.get("/monitors")
async def monitors(runner: RunnerDep) -> list[MonitorInfo]:
    """Every monitor: last values and verdict, thresholds, open alerts, next check."""
    return await runner.monitors()


@router.get("/monitors/{name}/history")
async def history(
    name: MonitorName,
    runner: RunnerDep,
    limit: Limit = 100,
) -> list[MonitorCheck]:
    """The monitor's checks, newest first."""
    return await runner.monitor_history(name, limit=limit)


@router.post("/monitors/{name}/check", dependencies=WRITABLE)
async def check(name: MonitorName, runner: RunnerDep, wait: bool = True) -> MonitorCheck:
    """Run a check now. With `wait=false` the answer comes once its run has started (verdict
    `running`); its end is the `check_finished` event."""
    return await runner.check_monitor(name, wait=wait)


@router.get("/alerts")
async def alerts(
    runner: RunnerDep,
    open: bool = False,
    monitor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 100,
) -> list[Alert]:
    """Alerts, open ones first, newest first within each; `open=true`: only open ones."""
    return await runner.alerts(open_only=open, monitor=monitor, limit=limit)


@router.post("/alerts/{alert_id}/ack", dependencies=WRITABLE)
async def acknowledge(alert_id: AlertId, body: Acknowledge, runner: RunnerDep) -> Alert:
    """Acknowledge an alert with a note (recorded with who and when)."""
    return await runner.ack_alert(alert_id, note=body.note)
