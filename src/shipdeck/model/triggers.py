"""Triggers: what starts a pipeline by itself, and what started an automatic run."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shipdeck.model.frozen import FrozenModel
from shipdeck.model.ids import Id

DEFAULT_TIMEZONE = "UTC"
DEFAULT_DEBOUNCE = 5.0
"""Seconds the files an `on_change` trigger watches must stay unchanged before it fires."""
DEFAULT_COOLDOWN = 3600.0
"""Seconds after an `on_alert` run started during which further alerts start none."""


class TriggerKind(StrEnum):
    SCHEDULE = "schedule"
    """A cron expression, evaluated in the pipeline's `timezone`."""
    EVERY = "every"
    """A fixed interval, in slots counted from 1970-01-01 00:00 UTC."""
    ON_SUCCESS = "on_success"
    """After a run of another pipeline succeeds."""
    ON_CHANGE = "on_change"
    """When files matching a pattern are new or changed (by content digest), debounced."""
    ON_ALERT = "on_alert"
    """When a monitor opens an alert, at most once per cool-down."""

    @property
    def timed(self) -> bool:
        return self in (TriggerKind.SCHEDULE, TriggerKind.EVERY)


class PipelineTriggers(FrozenModel):
    """What starts a pipeline by itself, as the workspace file declares it."""

    schedule: str | None = None
    """A five-field cron expression (or @daily, @hourly, ...)."""
    timezone: str = DEFAULT_TIMEZONE
    """The IANA time zone `schedule` is evaluated in."""
    every: float | None = None
    """Seconds between runs."""
    catchup: bool = False
    """After downtime, start every missed run (up to a bound) instead of at most one."""
    on_success: tuple[str, ...] = ()
    """Pipelines whose successful runs start this one."""
    on_change: tuple[str, ...] = ()
    """Glob patterns, relative to the workspace root, of the files that start this one."""
    debounce: float = DEFAULT_DEBOUNCE
    on_alert: tuple[str, ...] = ()
    """Monitors whose opened alerts start this one."""
    cooldown: float = DEFAULT_COOLDOWN
    """After an `on_alert` run started, alerts within this many seconds start none."""

    def kinds(self) -> list[TriggerKind]:
        """The kinds declared, in a fixed order."""
        declared = {
            TriggerKind.SCHEDULE: self.schedule is not None,
            TriggerKind.EVERY: self.every is not None,
            TriggerKind.ON_SUCCESS: bool(self.on_success),
            TriggerKind.ON_CHANGE: bool(self.on_change),
            TriggerKind.ON_ALERT: bool(self.on_alert),
        }
        return [kind for kind, present in declared.items() if present]


class RunCause(FrozenModel):
    """What started an automatic run (None on runs a person or a client started)."""

    kind: TriggerKind
    schedule: str
    """The trigger's name: `PIPELINE.KIND` (`retrain.schedule`)."""
    due_at: datetime | None = None
    """The slot this run is for (schedule and every); it may start later (after downtime)."""
    missed: int = 0
    """Earlier slots (or upstream successes) that were skipped after downtime because
    catch-up is off: this run stands for them."""
    upstream_run: Id | None = None
    upstream_pipeline: str | None = None
    files: list[str] = Field(default_factory=list)
    """New or changed files (the first MAX_CAUSE_FILES, sorted), relative to the workspace."""
    files_total: int = 0
    alert: int | None = None
    """on_alert: the alert whose opening started the run."""
    monitor: str | None = None
    """on_alert: the monitor that opened it."""
