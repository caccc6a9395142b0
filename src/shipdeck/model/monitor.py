"""Monitors, their checks and the alerts they open; notification settings."""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from shipdeck.model.frozen import FrozenModel
from shipdeck.model.ids import Id
from shipdeck.model.triggers import PipelineTriggers

MONITOR_PIPELINE_PREFIX = "monitor:"
"""A monitor's checks are recorded as runs of pipeline `monitor:<name>` (one task, `check`)."""
CHECK_TASK = "check"
DEFAULT_CHECK_TIMEOUT = 600.0
"""Seconds a check may run when the monitor sets no `timeout`: a hung check must not hold
the next one back for ever."""


def monitor_pipeline(name: str) -> str:
    return MONITOR_PIPELINE_PREFIX + name


class ThresholdSpec(FrozenModel):
    """`drift_share >= 0.5`: the monitor alerts while the metric satisfies the comparison."""

    text: str
    metric: str
    op: str
    limit: float

    def crossed(self, value: float) -> bool:
        """Whether `value` is outside (the comparison holds: the monitor alerts)."""
        if math.isnan(value):
            return False
        match self.op:
            case ">=":
                return value >= self.limit
            case "<=":
                return value <= self.limit
            case ">":
                return value > self.limit
            case "<":
                return value < self.limit
            case "==":
                return value == self.limit
            case _:
                return value != self.limit


class MonitorSpec(FrozenModel):
    """A command run on a schedule, as a task, whose reported values meet thresholds."""

    name: str
    run: str
    description: str = ""
    timing: PipelineTriggers = Field(default_factory=PipelineTriggers)
    """`schedule` (with `timezone`) or `every`; neither: checked only when asked."""
    thresholds: tuple[ThresholdSpec, ...] = ()
    watches: dict[str, str] = Field(default_factory=dict)
    """What it watches: {"model": "churn"} or {"service": "api", "env": "prod"}."""
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    timeout: float = DEFAULT_CHECK_TIMEOUT


class NotifySpec(FrozenModel):
    """`[notify]`: where alerts and failures are sent."""

    command: tuple[str, ...] = ()
    """An argv (no shell): the notification's JSON on its stdin."""
    webhook: str | None = None
    """An http(s) URL: the notification's JSON is POSTed to it."""
    timeout: float = 10.0
    """Seconds one attempt (the command, or one POST) may take."""
    retries: int = 3
    """Webhook attempts after a failed one, with backoff (1s, 2s, 4s, ...)."""
    on_failure: tuple[str, ...] = ()
    """Pipelines whose failed runs notify."""
    on_deploy_failure: bool = True
    """Failed deploys, promotions and rollbacks notify."""


class Verdict(StrEnum):
    RUNNING = "running"
    """The check's run has not finished yet."""
    OK = "ok"
    """Every threshold is inside."""
    ALERTING = "alerting"
    """At least one threshold is crossed."""
    FAILED = "failed"
    """The check did not succeed or did not report a value a threshold needs: no verdict on
    the thresholds (alerts stay as they are)."""


class ThresholdResult(FrozenModel):
    threshold: str
    metric: str
    value: float | None = None
    """The value the check reported last for the metric; None when it reported none."""
    crossed: bool = False


class MonitorCheck(FrozenModel):
    """One check of a monitor: its run, the values it reported and the verdict."""

    id: int
    monitor: str
    run_id: Id
    trigger: str
    """`every 10m`, `schedule 03:00 CEST` or `checked by ana@host`."""
    user: str
    started_at: datetime
    finished_at: datetime | None = None
    verdict: Verdict = Verdict.RUNNING
    reason: str = ""
    """Why the check failed, when it did."""
    values: dict[str, float] = Field(default_factory=dict)
    """The last value of every metric the check reported."""
    thresholds: list[ThresholdResult] = Field(default_factory=list)


class AlertState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Alert(FrozenModel):
    """A crossed threshold of a monitor, from the check that crossed it until one is back
    inside."""

    id: int
    monitor: str
    threshold: str
    metric: str
    value: float
    """The value that opened it."""
    since: datetime
    opened_check: int
    last_value: float
    last_check: int
    watches: dict[str, str] = Field(default_factory=dict)
    closed_at: datetime | None = None
    closed_value: float | None = None
    closed_reason: str = ""
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_note: str = ""

    @property
    def state(self) -> AlertState:
        return AlertState.OPEN if self.closed_at is None else AlertState.CLOSED


class MonitorInfo(FrozenModel):
    """One monitor as `shipdeck monitors` lists it."""

    name: str
    description: str = ""
    rule: str
    """`every 10m`, `0 3 * * * (UTC)` or `manual`."""
    thresholds: list[str]
    watches: dict[str, str] = Field(default_factory=dict)
    state: Verdict | None = None
    """The verdict of the last finished check (None: never checked)."""
    last_check: MonitorCheck | None = None
    running: bool = False
    """A check is in progress."""
    next_at: datetime | None = None
    paused: bool = False
    open_alerts: int = 0
    recent: list[float] = Field(default_factory=list)
    """The first threshold's metric over the recent checks, oldest first (for sparklines)."""


class LiveMetric(FrozenModel):
    """One value a monitor reported about a deployed model version, next to the value of the
    same name that version was trained with."""

    key: str
    live: float
    """The monitor's last check's value."""
    trained: float | None = None
    """The version's training metric of the same name (None: it has none)."""
    direction: str | None = None
    """`max` (higher is better), `min`, or None when the metric has no better direction."""

    @property
    def delta(self) -> float | None:
        return None if self.trained is None else self.live - self.trained

    @property
    def better(self) -> bool | None:
        """True when live beats training, False when it is worse, None when neither (equal,
        no training value, or no direction)."""
        delta = self.delta
        if delta is None or delta == 0 or self.direction is None:
            return None
        return delta > 0 if self.direction == "max" else delta < 0


class LivePerformance(FrozenModel):
    """Model performance in production: what a monitor watching a model measured in an
    environment, against the training metrics of the version that environment runs."""

    monitor: str
    model: str
    version: Id
    version_label: str
    service: str
    env: str
    check_id: int
    run_id: Id
    checked_at: datetime
    metrics: list[LiveMetric]
    before_deploy: bool = False
    """The check ran before this version was deployed there: its values are the previous
    version's (a check after the deploy will tell)."""
