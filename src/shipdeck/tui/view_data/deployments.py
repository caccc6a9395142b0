"""What the Deployments view shows for one runner: every service x environment, and why."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from shipdeck.errors import NotFound
from shipdeck.model import (
    EnvironmentState,
    GateKind,
    HistoryEntry,
    LivePerformance,
    ModelVersion,
    ServiceSpec,
)
from shipdeck.model.capabilities import Capability
from shipdeck.runners.live_performance import load_live_performance
from shipdeck.runners.protocol import Runner
from shipdeck.tui.fleet import offers

HISTORY_SCAN = 50


@dataclass(frozen=True)
class ServiceState:
    spec: ServiceSpec
    states: dict[str, EnvironmentState]
    last_action: dict[str, HistoryEntry] = field(default_factory=dict)
    """Per environment: its newest action, whatever its outcome."""
    key_metric: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    """For models: revision -> the key metric's value."""
    live: dict[str, LivePerformance] = field(default_factory=dict)
    """Per environment: a monitor's live values against its version's training metrics."""

    def state(self, env: str) -> EnvironmentState:
        return self.states.get(env) or EnvironmentState(service=self.spec.name, env=env)

    def next_env(self, env: str) -> str | None:
        envs = self.spec.environments
        if env not in envs:
            return None
        position = envs.index(env)
        return envs[position + 1] if position + 1 < len(envs) else None

    def previous_env(self, env: str) -> str | None:
        envs = self.spec.environments
        if env not in envs:
            return None
        position = envs.index(env)
        return envs[position - 1] if position > 0 else None


@dataclass(frozen=True)
class DeployData:
    services: list[ServiceState]
    supported: bool = True

    def service(self, name: str) -> ServiceState | None:
        return next((s for s in self.services if s.spec.name == name), None)

    @property
    def environments(self) -> list[str]:
        """Every environment name, in promotion order (first seen first)."""
        order: dict[str, None] = {}
        for service in self.services:
            order.update(dict.fromkeys(service.spec.environments))
        return list(order)


def key_metric(spec: ServiceSpec, versions: list[ModelVersion]) -> str | None:
    """The metric a model service is judged on: its gate's, else the first one reported."""
    for gates in spec.gates.values():
        for gate in gates:
            if gate.kind == GateKind.METRIC and gate.metric:
                return gate.metric
    for version in versions:
        if version.metrics:
            return next(iter(version.metrics))
    return None


async def _service_state(
    deployer: Runner, spec: ServiceSpec, states: list[EnvironmentState]
) -> ServiceState:
    history = await deployer.history(spec.name, limit=HISTORY_SCAN)
    last: dict[str, HistoryEntry] = {}
    for entry in history:
        last.setdefault(entry.env, entry)
    mine = {s.env: s for s in states if s.service == spec.name}
    if not spec.model:
        return ServiceState(spec, mine, last)
    try:
        versions = await deployer.model_versions(spec.model)
    except NotFound:  # no version registered yet
        versions = []
    metric = key_metric(spec, versions)
    values = {v.revision: v.metrics[metric] for v in versions if metric and metric in v.metrics}
    return ServiceState(spec, mine, last, metric, values)


async def load_deployments(runner: Runner) -> DeployData:
    if not await offers(runner, Capability.DEPLOYMENTS):
        return DeployData(services=[], supported=False)
    services, states, live = await asyncio.gather(
        runner.services(), runner.deployments(), load_live_performance(runner)
    )
    rows = await asyncio.gather(*(_service_state(runner, s, states) for s in services))
    for row in rows:
        row.live.update({p.env: p for p in live if p.service == row.spec.name})
    return DeployData(services=list(rows))
