"""What the Models view shows for one runner: versions, key metrics, the reference to beat.

Loaded in two steps: `load_models` reads what the first frame shows (the versions, the
reference of each model), `with_directions` then asks the runner's metric directions (one
comparison of two versions: nine requests to an MLflow server), which only recolour the
deltas, so the view is painted before they come.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

from shipdeck.errors import Unsupported
from shipdeck.model import (
    EnvironmentState,
    GateKind,
    LivePerformance,
    MetricDirection,
    ModelVersion,
    ServiceSpec,
    default_direction,
)
from shipdeck.model.capabilities import Capability
from shipdeck.runners.live_performance import load_live_performance, metric_directions
from shipdeck.runners.protocol import Runner

KEY_METRICS = 6
"""At most this many metric columns; every metric is in the comparison."""
CHAMPION = "champion"
QUALITY_METRICS = frozenset(
    {"auc", "accuracy", "precision", "recall", "f1", "loss", "val_loss", "rmse", "mae", "r2"}
)


@dataclass(frozen=True)
class ModelFamily:
    name: str
    versions: list[ModelVersion]
    """Newest first."""
    reference: ModelVersion | None = None
    """What each version is measured against: the champion, else what prod runs."""
    reference_label: str = ""


@dataclass(frozen=True)
class ModelsData:
    families: list[ModelFamily]
    directions: dict[str, MetricDirection] = field(default_factory=dict)
    key_metrics: list[str] = field(default_factory=list)
    supported: bool = True
    live: list[LivePerformance] = field(default_factory=list)
    """Monitors' live values of deployed versions, beside their training metrics."""
    services: list[ServiceSpec] = field(default_factory=list)
    directions_known: bool = True
    """False until the runner's metric directions and the monitors' live values were asked
    (`with_directions`, after the first frame); until then each metric has its default
    direction and no live value is shown."""

    def live_of(self, model: str, version: str) -> LivePerformance | None:
        return next((p for p in self.live if p.model == model and p.version == version), None)

    def direction(self, key: str) -> MetricDirection:
        return self.directions.get(key) or default_direction(key)


def _last_env_versions(
    services: list[ServiceSpec], states: list[EnvironmentState]
) -> dict[str, tuple[str, str]]:
    """Model name -> (environment, version) that the service's last environment runs."""
    held = {(s.service, s.env): s.revision for s in states}
    result: dict[str, tuple[str, str]] = {}
    for service in services:
        if not service.model or not service.environments:
            continue
        env = service.environments[-1]
        revision = held.get((service.name, env))
        if revision and revision.startswith("v") and revision[1:].isdigit():
            result.setdefault(service.model, (env, revision[1:]))
    return result


def _reference(
    versions: list[ModelVersion], deployed: tuple[str, str] | None
) -> tuple[ModelVersion | None, str]:
    for version in versions:
        if CHAMPION in version.aliases:
            return version, CHAMPION
    if deployed is not None:
        env, number = deployed
        for version in versions:
            if version.version == number:
                return version, env
    return None, ""


def pick_key_metrics(
    families: list[ModelFamily],
    services: list[ServiceSpec],
    directions: dict[str, MetricDirection],
    limit: int = KEY_METRICS,
) -> list[str]:
    """Gate metrics first, then the usual quality metrics (auc, accuracy, loss, ...) and those
    the workspace configured away from the default, then the rest by name."""
    seen: dict[str, None] = {}
    for family in families:
        for version in family.versions[:50]:
            seen.update(dict.fromkeys(version.metrics))
    gated = [
        gate.metric
        for service in services
        for gates in service.gates.values()
        for gate in gates
        if gate.kind == GateKind.METRIC and gate.metric
    ]
    order = [k for k in dict.fromkeys(gated) if k in seen]
    notable = [
        k
        for k in seen
        if k.lower() in QUALITY_METRICS
        or directions.get(k, default_direction(k)) != default_direction(k)
    ]
    order += sorted(k for k in notable if k not in order)
    order += sorted(k for k in seen if k not in order)
    return order[:limit]


async def _directions(runner: Runner, families: list[ModelFamily]) -> dict[str, MetricDirection]:
    """The workspace's metric directions, as a comparison of two versions reports them (none
    from a registry that does not compare)."""
    for family in families:
        if len(family.versions) >= 2:
            a, b = family.versions[0], family.versions[1]
            try:
                comparison = await runner.compare(
                    [f"{family.name}@{a.revision}", f"{family.name}@{b.revision}"]
                )
            except Unsupported:
                return {}
            return metric_directions(comparison)
    return {}


async def _services(runner: Runner, can: frozenset[Capability]) -> list[ServiceSpec]:
    return await runner.services() if Capability.DEPLOYMENTS in can else []


async def _deployments(runner: Runner, can: frozenset[Capability]) -> list[EnvironmentState]:
    return await runner.deployments() if Capability.DEPLOYMENTS in can else []


async def load_models(runner: Runner) -> ModelsData:
    """Every model's versions and reference, with default metric directions (see
    `with_directions`)."""
    can = (await runner.capabilities()).can
    if Capability.MODELS not in can:
        return ModelsData(families=[], supported=False)
    summaries, services, states = await asyncio.gather(
        runner.models(), _services(runner, can), _deployments(runner, can)
    )
    all_versions = await asyncio.gather(*(runner.model_versions(m.name) for m in summaries))
    deployed = _last_env_versions(services, states)
    families = []
    for summary, versions in zip(summaries, all_versions, strict=True):
        reference, label = _reference(versions, deployed.get(summary.name))
        families.append(ModelFamily(summary.name, versions, reference, label))
    return ModelsData(
        families=families,
        key_metrics=pick_key_metrics(families, services, {}),
        services=services,
        directions_known=not families,
    )


async def with_directions(runner: Runner, data: ModelsData) -> ModelsData:
    """`data` with the runner's metric directions, the key metrics they pick and the
    monitors' live values of the deployed versions."""
    directions, live = await asyncio.gather(
        _directions(runner, data.families), load_live_performance(runner)
    )
    return replace(
        data,
        directions=directions,
        key_metrics=pick_key_metrics(data.families, data.services, directions),
        live=live,
        directions_known=True,
    )
