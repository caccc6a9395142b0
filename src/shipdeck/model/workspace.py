"""A loaded workspace: where it lives and what it declares."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shipdeck.model.deploy import MetricDirection, ServiceSpec, known_direction
from shipdeck.model.frozen import FrozenModel
from shipdeck.model.monitor import MonitorSpec, NotifySpec
from shipdeck.model.pipeline import PipelineSpec
from shipdeck.model.settings import RetentionSpec, TaskEnvSpec


class WorkspaceSpec(FrozenModel):
    root: Path
    """The directory holding shipdeck.toml; task commands run relative to it."""
    file: Path
    pipelines: dict[str, PipelineSpec] = Field(default_factory=dict)
    services: dict[str, ServiceSpec] = Field(default_factory=dict)
    metrics: dict[str, MetricDirection] = Field(default_factory=dict)
    """Directions set in [metrics]; see `direction` for the defaults of the others."""
    task_env: TaskEnvSpec = Field(default_factory=TaskEnvSpec)
    """What tasks inherit from the runner's environment ([task_env])."""
    retention: RetentionSpec | None = None
    """Which finished runs the runner deletes by itself ([retention]); None: none."""
    monitors: dict[str, MonitorSpec] = Field(default_factory=dict)
    """Commands checked on a schedule against thresholds ([monitors.NAME])."""
    notify: NotifySpec | None = None
    """Where alerts and failures are sent ([notify]); None: nowhere."""

    def direction(self, metric: str) -> MetricDirection | None:
        """Whether higher or lower values of `metric` are better: as [metrics] says, else by
        convention; None when neither knows."""
        return self.metrics.get(metric) or known_direction(metric)

    @property
    def state_dir(self) -> Path:
        """Where the runner keeps its database, logs and artifacts."""
        return self.root / ".shipdeck"
