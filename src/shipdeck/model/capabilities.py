"""What a runner can do: declared once by each runner, asked by every front end.

A front end never guesses from a runner's class: it asks `capabilities()` and offers only
what `has` allows, and when an operator asks anyway it shows `why_not`, one line.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shipdeck.model.frozen import FrozenModel


class Capability(StrEnum):
    PIPELINES = "pipelines"
    """Lists pipelines (experiments, deployments, ...) and their runs."""
    STATIC_DAG = "static_dag"
    """The DAG is known before a run; else only the tasks that ran."""
    TRIGGER = "trigger"
    """start_run."""
    TRIGGER_PARAMS = "trigger_params"
    """start_run takes params (their schema is the pipeline's params)."""
    RERUN_ALL = "rerun_all"
    RERUN_FAILED = "rerun_failed"
    RERUN_FROM = "rerun_from"
    RERUN_PREVIEW = "rerun_preview"
    """rerun_plan."""
    CANCEL = "cancel"
    LOGS = "logs"
    """read_log by range and tail."""
    LOG_SEARCH = "log_search"
    """search_log runs on the runner."""
    METRICS = "metrics"
    METRIC_STEPS = "metric_steps"
    """Metric histories by step (curves)."""
    MODELS = "models"
    """A model registry: models, versions, compare."""
    ALIASES = "aliases"
    """Alias moves."""
    DEPLOYMENTS = "deployments"
    """Services, plan, deploy, promote, rollback, history."""
    SCHEDULES = "schedules"
    """Schedules and triggers."""
    FAILURES = "failures"
    """Failure streaks."""
    MONITORS = "monitors"
    """Monitors, their checks and alerts (read, checked now, acknowledged)."""


CHANGES_STATE = frozenset(
    {
        Capability.TRIGGER,
        Capability.TRIGGER_PARAMS,
        Capability.RERUN_ALL,
        Capability.RERUN_FAILED,
        Capability.RERUN_FROM,
        Capability.CANCEL,
        Capability.ALIASES,
    }
)
"""What a read-only runner refuses. Deployments, schedules and monitors are read as well as
acted on: their views stay, and their actions check `read_only` (see
`Capabilities.has_action`)."""

DOING = {
    Capability.PIPELINES: "list pipelines and runs",
    Capability.STATIC_DAG: "show a pipeline's tasks before it runs",
    Capability.TRIGGER: "start runs",
    Capability.TRIGGER_PARAMS: "start runs with params",
    Capability.RERUN_ALL: "rerun runs",
    Capability.RERUN_FAILED: "rerun failed tasks",
    Capability.RERUN_FROM: "rerun from a task",
    Capability.RERUN_PREVIEW: "preview reruns",
    Capability.CANCEL: "cancel runs",
    Capability.LOGS: "read task logs",
    Capability.LOG_SEARCH: "search task logs",
    Capability.METRICS: "record metrics",
    Capability.METRIC_STEPS: "record metric histories",
    Capability.MODELS: "list models",
    Capability.ALIASES: "move model aliases",
    Capability.DEPLOYMENTS: "deploy services",
    Capability.SCHEDULES: "schedule pipelines",
    Capability.FAILURES: "list failures",
    Capability.MONITORS: "watch monitors and alerts",
}
"""What each capability lets an operator do, for `why_not` ("cannot cancel runs")."""


class EventDelivery(StrEnum):
    PUSH = "push"
    """wait_events answers as things happen (the embedded engine, SSE)."""
    POLL = "poll"
    """The runner polls its backend: events come late by up to poll_interval."""
    NONE = "none"
    """No event feed: front ends reload instead of following."""


class Capabilities(FrozenModel):
    """One runner's declaration of what it can do."""

    kind: str = Field(description='The runner kind, as `[[runners]] kind`: "shipdeck", "mlflow"')
    can: frozenset[Capability] = Field(description="What the runner does")
    events: EventDelivery = Field(
        default=EventDelivery.PUSH, description="How wait_events learns of changes"
    )
    poll_interval: float | None = Field(
        default=None, description="Seconds between polls of the backend (events: poll)"
    )
    read_only: bool = Field(
        default=False,
        description="The runner refuses changes: no trigger, rerun, cancel, alias or deploy",
    )
    reasons: dict[Capability, str] = Field(
        default_factory=dict,
        description='Why something is missing, e.g. "MLflow is not an executor"',
    )

    def has(self, what: Capability) -> bool:
        """Whether the runner does `what` now: False on a read-only runner for what changes
        state."""
        return what in self.can and not (self.read_only and what in CHANGES_STATE)

    def has_action(self, what: Capability) -> bool:
        """Whether the runner acts on `what` (deployments, schedules): it has it and is not
        read-only."""
        return what in self.can and not self.read_only

    def why_not(self, what: Capability, runner: str) -> str:
        """One line for the CLI and the TUI: why `runner` cannot do `what`."""
        doing = DOING[what]
        if what in self.can and self.read_only:
            return f"runner {runner} is read-only: it cannot {doing}"
        reason = self.reasons.get(what)
        if reason:
            return f"runner {runner} cannot {doing}: {reason}"
        return f"runner {runner} ({self.kind}) cannot {doing}"

    def read_only_copy(self) -> Capabilities:
        return self.model_copy(update={"read_only": True})


EVERYTHING = frozenset(Capability)
REGISTRY = frozenset({Capability.MODELS, Capability.ALIASES, Capability.DEPLOYMENTS})
"""A model registry with deployments: what the embedded engine's runners add to running
pipelines."""
