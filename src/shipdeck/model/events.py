"""The event feed: every change, numbered so consumers can resume where they left off.

An event is one of the typed models below, told apart by `kind` (a discriminated union):
parsed once where events enter a process, then read as attributes by every consumer. A new
kind is one event model (with its payload's model) and one entry in the `Event` union.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, TypeVar, get_args

from pydantic import BaseModel, Field, TypeAdapter

from shipdeck.model.deploy import AliasMove, HistoryEntry, ModelVersion
from shipdeck.model.frozen import FrozenModel
from shipdeck.model.ids import Id
from shipdeck.model.logs import LogLine, LogStream
from shipdeck.model.monitor import Alert, MonitorCheck
from shipdeck.model.run import Metric, Run, TaskRun
from shipdeck.model.schedule import ScheduleAction
from shipdeck.model.triggers import RunCause


class EventKind(StrEnum):
    RUN = "run"
    """A run was created or changed status. data: the Run."""
    TASK = "task"
    """A task changed status. data: the TaskRun."""
    LOG = "log"
    """A task wrote a line. data: {"n", "stream", "text", "ts"}."""
    METRIC = "metric"
    """A task reported a metric. data: the Metric."""
    CONFIG = "config"
    """The runner's workspace file changed and loads: pipelines and services may differ.
    data: {"file": the file's name}."""
    DEPLOY_STARTED = "deploy_started"
    """A deploy, promote or rollback claimed its environment and started its deploy run.
    data: the HistoryEntry (outcome "running", run_id set)."""
    DEPLOY_FINISHED = "deploy_finished"
    """A deploy, promote or rollback ended. data: the HistoryEntry with its outcome."""
    ALIAS_MOVED = "alias_moved"
    """A model alias now points at another version. data: the AliasMove."""
    VERSION_REGISTERED = "version_registered"
    """A run registered a new model version. data: the ModelVersion."""
    HEALTH_CHANGED = "health_changed"
    """An environment's health result changed. data: {"service", "env", "revision",
    "health", "previous"}."""
    SCHEDULE_FIRED = "schedule_fired"
    """A schedule or trigger started a run. data: {"schedule", "pipeline", "trigger",
    "cause"} (the RunCause); run_id: the run it started."""
    SCHEDULE = "schedule"
    """A schedule or trigger was paused or resumed. data: the ScheduleAction."""
    CHECK_FINISHED = "check_finished"
    """A monitor's check ended. data: the MonitorCheck (verdict, values, thresholds);
    run_id: the check's run."""
    ALERT_OPENED = "alert_opened"
    """A monitor's threshold was crossed. data: the Alert."""
    ALERT_CLOSED = "alert_closed"
    """A monitor's value is back inside the threshold. data: the Alert (closed_at set)."""
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    """Someone acknowledged an alert. data: the Alert (acked_by, ack_note set)."""


M = TypeVar("M", bound=BaseModel)


def trusted(cls: type[M], **values: object) -> M:
    """A model of values already of the right types (the engine's own), built without
    validation: a few times cheaper than `model_construct`, which a task printing 10,000
    lines a second pays per line. Every field must be given."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


class LogData(FrozenModel):
    n: int
    """0-based line number within the task's log."""
    stream: LogStream = LogStream.OUT
    text: str = ""
    ts: str | None = None
    """When the line was written, as stamped in the log file."""


class ConfigData(FrozenModel):
    file: str
    """The workspace file's name."""
    problems: list[str] = Field(default_factory=list)
    """Why the file as it is now does not load (`file:line: message` each); the runner keeps
    the last configuration that loaded. Empty when the file loads."""


class HealthData(FrozenModel):
    service: str
    env: str
    revision: str
    """The revision the health command checked."""
    health: str
    """"passed" or "failed"."""
    previous: str | None = None
    """The health result before, None when never checked."""


class ScheduleFiredData(FrozenModel):
    schedule: str
    """The trigger's name (`PIPELINE.KIND`)."""
    pipeline: str
    trigger: str
    """The run's trigger text (`schedule 03:00 CEST`, `after ingest #12`, ...)."""
    cause: RunCause


class _Event(FrozenModel):
    seq: int
    """Strictly increasing, also across restarts of the runner."""
    ts: datetime
    run_id: Id | None = None
    task: str | None = None


class RunEvent(_Event):
    kind: Literal[EventKind.RUN] = EventKind.RUN
    data: Run


class TaskEvent(_Event):
    kind: Literal[EventKind.TASK] = EventKind.TASK
    data: TaskRun


class LogEvent(_Event):
    kind: Literal[EventKind.LOG] = EventKind.LOG
    data: LogData

    def line(self) -> LogLine:
        return LogLine(n=self.data.n, ts=self.ts, stream=self.data.stream, text=self.data.text)


class MetricEvent(_Event):
    kind: Literal[EventKind.METRIC] = EventKind.METRIC
    data: Metric


class ConfigEvent(_Event):
    kind: Literal[EventKind.CONFIG] = EventKind.CONFIG
    data: ConfigData


class DeployStartedEvent(_Event):
    kind: Literal[EventKind.DEPLOY_STARTED] = EventKind.DEPLOY_STARTED
    data: HistoryEntry


class DeployFinishedEvent(_Event):
    kind: Literal[EventKind.DEPLOY_FINISHED] = EventKind.DEPLOY_FINISHED
    data: HistoryEntry


class AliasMovedEvent(_Event):
    kind: Literal[EventKind.ALIAS_MOVED] = EventKind.ALIAS_MOVED
    data: AliasMove


class VersionRegisteredEvent(_Event):
    kind: Literal[EventKind.VERSION_REGISTERED] = EventKind.VERSION_REGISTERED
    data: ModelVersion


class HealthChangedEvent(_Event):
    kind: Literal[EventKind.HEALTH_CHANGED] = EventKind.HEALTH_CHANGED
    data: HealthData


class ScheduleFiredEvent(_Event):
    kind: Literal[EventKind.SCHEDULE_FIRED] = EventKind.SCHEDULE_FIRED
    data: ScheduleFiredData


class ScheduleEvent(_Event):
    kind: Literal[EventKind.SCHEDULE] = EventKind.SCHEDULE
    data: ScheduleAction


class CheckFinishedEvent(_Event):
    kind: Literal[EventKind.CHECK_FINISHED] = EventKind.CHECK_FINISHED
    data: MonitorCheck


class AlertOpenedEvent(_Event):
    kind: Literal[EventKind.ALERT_OPENED] = EventKind.ALERT_OPENED
    data: Alert


class AlertClosedEvent(_Event):
    kind: Literal[EventKind.ALERT_CLOSED] = EventKind.ALERT_CLOSED
    data: Alert


class AlertAcknowledgedEvent(_Event):
    kind: Literal[EventKind.ALERT_ACKNOWLEDGED] = EventKind.ALERT_ACKNOWLEDGED
    data: Alert


Event = Annotated[
    RunEvent
    | TaskEvent
    | LogEvent
    | MetricEvent
    | ConfigEvent
    | DeployStartedEvent
    | DeployFinishedEvent
    | AliasMovedEvent
    | VersionRegisteredEvent
    | HealthChangedEvent
    | ScheduleFiredEvent
    | ScheduleEvent
    | CheckFinishedEvent
    | AlertOpenedEvent
    | AlertClosedEvent
    | AlertAcknowledgedEvent,
    Field(discriminator="kind"),
]
"""Any event, parsed by its `kind`; narrow with isinstance (or match) on the event models."""

EVENT_TYPES: dict[EventKind, type[_Event]] = {
    cls.model_fields["kind"].default: cls for cls in get_args(get_args(Event)[0])
}
"""The event model of each kind."""

EVENT: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_LIST: TypeAdapter[list[Event]] = TypeAdapter(list[Event])


class EventPage(FrozenModel):
    """Events after a sequence number. `reset` means some were dropped: refetch state."""

    events: list[Event]
    last_seq: int
    """The sequence number to pass as `after` next time."""
    reset: bool = False
