"""The event feed: every change, numbered so consumers can resume where they left off."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventKind(StrEnum):
    RUN = "run"
    """A run was created or changed status. data: the Run."""
    TASK = "task"
    """A task changed status. data: the TaskRun."""
    LOG = "log"
    """A task wrote a line. data: {"n", "stream", "text"}."""
    METRIC = "metric"
    """A task reported a metric. data: the Metric."""
    CONFIG = "config"
    """The runner's workspace file changed and loads: pipelines and services may differ.
    data: {"file": the file's name}."""
    SCHEDULE_FIRED = "schedule_fired"
    """A schedule or trigger started a run. data: {"schedule", "pipeline", "trigger",
    "cause"} (the RunCause); run_id: the run it started."""
    SCHEDULE = "schedule"
    """A schedule or trigger was paused or resumed. data: the ScheduleAction."""


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    """Strictly increasing, also across restarts of the runner."""
    ts: datetime
    kind: EventKind
    run_id: int | None = None
    task: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class EventPage(BaseModel):
    """Events after a sequence number. `reset` means some were dropped: refetch state."""

    model_config = ConfigDict(frozen=True)

    events: list[Event]
    last_seq: int
    """The sequence number to pass as `after` next time."""
    reset: bool = False
