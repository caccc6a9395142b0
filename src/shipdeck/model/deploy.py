"""Services, environments and the model registry: what is deployed where, and how it got there.

Revisions are strings: `v3` is version 3 of a service's model, `r12` is the artifact built by
successful run 12 of a service's pipeline.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from shipdeck.model.automation import DEFAULT_ROLLBACK_AFTER, AutoCause, AutoPromoteSpec
from shipdeck.model.frozen import LazyFrozenModel
from shipdeck.model.ids import Id, version_label
from shipdeck.model.lineage import Lineage, LineageFlag
from shipdeck.model.pipeline import ParamValue

EMPTY_REVISION = "none"
"""What `expect` says about an environment that holds no revision yet."""


class MetricDirection(StrEnum):
    MAX = "max"
    """Higher is better (auc, accuracy)."""
    MIN = "min"
    """Lower is better (loss, latency)."""


_HIGHER_IS_BETTER = frozenset(
    {"auc", "accuracy", "acc", "precision", "recall", "f1", "r2", "map", "ndcg", "throughput"}
)
_LOWER_IS_BETTER = frozenset(
    {"loss", "val_loss", "error", "rmse", "mae", "mse", "logloss", "latency", "duration"}
)


def known_direction(key: str) -> MetricDirection | None:
    """The conventional direction of a metric name (`auc`, `val_auc`: max; `loss`,
    `train_loss`, `p99_latency`: min), None for names with none (`rows_train`, `tests`)."""
    name = key.lower()
    for candidate in (name, name.rpartition("_")[2]):
        if candidate in _LOWER_IS_BETTER:
            return MetricDirection.MIN
        if candidate in _HIGHER_IS_BETTER:
            return MetricDirection.MAX
    return None


def default_direction(key: str) -> MetricDirection:
    """The direction of a metric nobody configured: the conventional one, else max (for views
    that must order every metric; comparisons mark no best for names without a direction)."""
    return known_direction(key) or MetricDirection.MAX


class GateKind(StrEnum):
    METRIC = "metric"
    PIPELINE = "pipeline"
    SOAK = "soak"


class GateSpec(LazyFrozenModel):
    """One parsed gate, e.g. `metric:auc >= 0.80`, `pipeline:ci succeeded`, `soak:staging 10m`."""

    text: str
    kind: GateKind
    metric: str | None = None
    op: str | None = None
    threshold: float | None = None
    pipeline: str | None = None
    environment: str | None = None
    seconds: float | None = None


class ServiceSpec(LazyFrozenModel):
    """Something deployable: versions of a model, or the artifact of a pipeline's runs."""

    name: str
    pipeline: str | None = None
    artifact: str | None = None
    """For pipeline services: the file (relative to the workspace) each successful run builds."""
    model: str | None = None
    registry: str | None = None
    """For model services: the configured runner (kind mlflow) whose registry holds `model`;
    None for the versions this workspace's pipelines register."""
    environments: tuple[str, ...]
    """In promotion order: a revision moves from environments[i] to environments[i + 1]."""
    deploy: str
    health: str | None = None
    timeout: float | None = None
    """Seconds each of the deploy and health commands may take."""
    gates: dict[str, tuple[GateSpec, ...]] = Field(default_factory=dict)
    """Gates per target environment."""
    health_every: dict[str, float] = Field(default_factory=dict)
    """Seconds between scheduled health checks, per environment checked on a schedule."""
    auto_rollback: tuple[str, ...] = ()
    """Environments rolled back by themselves when health fails `rollback_after` times."""
    rollback_after: int = DEFAULT_ROLLBACK_AFTER
    auto_promote: AutoPromoteSpec | None = None
    """What happens to a new challenger version of the service's model."""
    aliases: dict[str, str] = Field(default_factory=dict)
    """For model services: the alias pointed at the version an environment holds after each
    successful action there (`prod` -> `champion`)."""

    @property
    def source(self) -> str:
        return f"model {self.model}" if self.model else f"pipeline {self.pipeline}"

    def is_production(self, env: str) -> bool:
        """Production asks harder (a typed confirmation in the TUI, a required reason):
        the environment named `prod`, and the last environment of the service."""
        return env == "prod" or env == self.environments[-1]


class ModelVersion(LazyFrozenModel):
    model: str
    version: Id
    run_id: Id
    task: str
    params: dict[str, ParamValue] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    """The run's metrics (last value per key) when the version was registered."""
    sha256: str
    created_at: datetime
    aliases: list[str] = Field(default_factory=list)
    source: str = ""
    """Where the registry says the version's files are (MLflow's `source`, `runs:/ID/model`);
    empty for shipdeck's own registry, which keeps the artifact by digest."""
    lineage: Lineage | None = None
    """The code and data the version came from: its run's code and the inputs of its task
    and the tasks that task needs (None when its run recorded neither, or the runner does
    not record lineage)."""
    label: str = ""
    """What front ends print for it: `v3`. Unset: `version_label(version)`."""

    @model_validator(mode="after")
    def _labelled(self) -> Self:
        if not self.label:
            self.__dict__["label"] = version_label(self.version)
        return self

    @property
    def revision(self) -> str:
        """The service revision that deploys it: `v3`."""
        return version_label(self.version)


class ModelSummary(LazyFrozenModel):
    name: str
    versions: int
    latest: Id
    aliases: dict[str, Id] = Field(default_factory=dict)
    """Alias name -> version."""


class AliasMove(LazyFrozenModel):
    """An alias pointed at a version: recorded with who and when."""

    id: int
    model: str
    alias: str
    from_version: Id | None
    to_version: Id | None
    user: str
    at: datetime
    reason: str = ""
    """Why, when the mover said (the MLflow runner records it; the engine does not yet)."""
    outside: bool = False
    """A move the runner noticed but no shipdeck made (the alias changed in MLflow's own UI):
    who and when are then not known (`user` says so, `at` is when it was noticed)."""


class DeployAction(StrEnum):
    DEPLOY = "deploy"
    PROMOTE = "promote"
    ROLLBACK = "rollback"


class Outcome(StrEnum):
    RUNNING = "running"
    """The action holds the environment and its deploy run is in flight."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """The deploy or health command failed; the environment kept its revision."""
    REFUSED = "refused"
    """A gate failed; nothing ran."""
    CONFLICT = "conflict"
    """The environment did not hold the expected revision, or another action held it."""
    INTERRUPTED = "interrupted"
    """The process running the action died; the environment kept its revision."""


class GateResult(LazyFrozenModel):
    gate: str
    passed: bool
    reason: str


class HistoryEntry(LazyFrozenModel):
    """One action on one environment of a service, whatever its outcome."""

    id: int
    service: str
    env: str
    action: DeployAction
    from_revision: str | None
    to_revision: str
    user: str
    at: datetime
    reason: str = ""
    outcome: Outcome
    gates: list[GateResult] = Field(default_factory=list)
    forced: bool = False
    run_id: Id | None = None
    detail: str = ""
    """Why it ended as it did, in one line ("health failed: exit 1", "prod holds v4")."""
    finished_at: datetime | None = None
    cause: AutoCause | None = None
    """Set on automatic actions (nobody asked for them): why the runner acted."""

    @property
    def automatic(self) -> bool:
        return self.cause is not None


class EnvironmentState(LazyFrozenModel):
    """What one environment of a service holds now."""

    service: str
    env: str
    revision: str | None = None
    since: datetime | None = None
    user: str | None = None
    run_id: Id | None = None
    health: str | None = None
    """The last health result: "passed", "failed", or None when never checked."""
    health_revision: str | None = None
    health_at: datetime | None = None
    in_flight: HistoryEntry | None = None
    """An action currently holding the environment."""


class PlannedTask(LazyFrozenModel):
    name: str
    command: str


class ActionPlan(LazyFrozenModel):
    """Exactly what an action would do, computed without changing anything (--dry-run)."""

    service: str
    env: str
    action: DeployAction
    from_revision: str | None
    to_revision: str
    source_env: str | None = None
    """For a promote: the environment the revision comes from."""
    tasks: list[PlannedTask]
    environment: dict[str, str]
    """The SHIPDECK_* variables every task gets."""
    gates: list[GateResult] = Field(default_factory=list)

    @property
    def gates_passed(self) -> bool:
        return all(gate.passed for gate in self.gates)

    @property
    def failed_gates(self) -> list[GateResult]:
        return [gate for gate in self.gates if not gate.passed]


class CompareSubject(LazyFrozenModel):
    """A column of a comparison: a run or a model version."""

    label: str
    run_id: Id
    model: str | None = None
    version: Id | None = None
    params: dict[str, ParamValue] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    lineage: Lineage | None = None

    @classmethod
    def of_version(
        cls, model: str, version: ModelVersion, lineage: Lineage | None = None
    ) -> CompareSubject:
        """A model version as a column (`churn@v3`): its params and metrics."""
        return cls(
            label=f"{model}@{version.revision}",
            run_id=version.run_id,
            model=model,
            version=version.version,
            params=version.params,
            metrics=version.metrics,
            lineage=lineage,
        )


class CompareCell(LazyFrozenModel):
    value: ParamValue | None = None
    delta: float | None = None
    """value minus the first subject's value, when both are numbers."""
    delta_pct: float | None = None
    """delta as a percentage of the first subject's value (None when that is 0)."""
    best: bool = False


class CompareRow(LazyFrozenModel):
    kind: str
    """"param" or "metric"."""
    key: str
    direction: MetricDirection | None = None
    """For metrics: which way is better."""
    cells: list[CompareCell]
    differs: bool


class Comparison(LazyFrozenModel):
    subjects: list[CompareSubject]
    rows: list[CompareRow]
    lineage: list[LineageFlag] = Field(default_factory=list)
    """Where a subject was trained on other data or code than the first one."""
