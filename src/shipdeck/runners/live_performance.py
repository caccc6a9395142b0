"""Model performance in production, read over the Runner contract: a monitor that watches a
model (`watches = { model = "churn" }`, or a model service's environment) reports live values
(accuracy on labelled feedback, ...); each is set beside the training metric of the same name
of the version the watched environment runs.

Which environment: the one the monitor names (`env`), else each service of that model's
production environment (its last). A runner without monitors, models or deployments has no
such comparison: it contributes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from shipdeck.errors import NotFound, ShipdeckError
from shipdeck.model import (
    Comparison,
    EnvironmentState,
    LiveMetric,
    LivePerformance,
    MetricDirection,
    ModelVersion,
    MonitorInfo,
    ServiceSpec,
    Verdict,
    known_direction,
)
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner

Direction = Callable[[str], MetricDirection | None]


def watched_environments(info: MonitorInfo, services: list[ServiceSpec]) -> list[ServiceSpec]:
    """The model services whose environment the monitor watches (see `watched_env`)."""
    model = info.watches.get("model")
    service = info.watches.get("service")
    return [
        spec
        for spec in services
        if spec.model and spec.environments and (spec.model == model or spec.name == service)
    ]


def watched_env(info: MonitorInfo, spec: ServiceSpec) -> str | None:
    env = info.watches.get("env") or spec.environments[-1]
    return env if env in spec.environments else None


def compare_live(
    monitors: list[MonitorInfo],
    services: list[ServiceSpec],
    states: list[EnvironmentState],
    versions: dict[str, list[ModelVersion]],
    direction: Direction = known_direction,
) -> list[LivePerformance]:
    """For every monitor watching a model and checked at least once, per watched environment
    that runs a version of it: the check's values beside that version's training metrics."""
    held = {(state.service, state.env): state for state in states}
    found: list[LivePerformance] = []
    for info in monitors:
        check = info.last_check
        if check is None or check.verdict == Verdict.RUNNING or not check.values:
            continue
        for spec in watched_environments(info, services):
            env = watched_env(info, spec)
            state = held.get((spec.name, env)) if env else None
            if env is None or state is None or state.revision is None:
                continue
            version = next(
                (v for v in versions.get(spec.model or "", []) if v.revision == state.revision),
                None,
            )
            if version is None:
                continue
            metrics = [
                LiveMetric(
                    key=key,
                    live=value,
                    trained=version.metrics.get(key),
                    direction=(d.value if (d := direction(key)) is not None else None),
                )
                for key, value in check.values.items()
            ]
            # Values with a training counterpart first: they are the comparison.
            metrics.sort(key=lambda metric: metric.trained is None)
            found.append(
                LivePerformance(
                    monitor=info.name,
                    model=version.model,
                    version=version.version,
                    version_label=version.label,
                    service=spec.name,
                    env=env,
                    check_id=check.id,
                    run_id=check.run_id,
                    checked_at=check.finished_at or check.started_at,
                    metrics=metrics,
                    before_deploy=state.since is not None and check.started_at < state.since,
                )
            )
    return found


async def _versions(runner: Runner, model: str) -> list[ModelVersion]:
    try:
        return await runner.model_versions(model)
    except NotFound:
        return []


async def _directions(runner: Runner, refs: list[str]) -> dict[str, MetricDirection]:
    """The workspace's metric directions, as a comparison reports them ({} if it cannot)."""
    if not refs:
        return {}
    try:
        comparison = await runner.compare([refs[0], refs[0]])
    except ShipdeckError:
        return {}
    return metric_directions(comparison)


def metric_directions(comparison: Comparison) -> dict[str, MetricDirection]:
    """The direction (higher or lower is better) of each metric a comparison knows one of."""
    return {
        row.key: row.direction
        for row in comparison.rows
        if row.kind == "metric" and row.direction is not None
    }


async def load_live_performance(runner: Runner) -> list[LivePerformance]:
    """`compare_live` over what the runner exposes; [] for a runner that lacks monitors,
    models or deployments."""
    can = (await runner.capabilities()).can
    if not {Capability.MONITORS, Capability.MODELS, Capability.DEPLOYMENTS} <= can:
        return []
    monitors = [m for m in await runner.monitors() if m.watches and m.last_check is not None]
    if not monitors:
        return []
    services, states = await asyncio.gather(runner.services(), runner.deployments())
    models = sorted(
        {s.model for m in monitors for s in watched_environments(m, services) if s.model}
    )
    answers = await asyncio.gather(*(_versions(runner, model) for model in models))
    versions = dict(zip(models, answers, strict=True))
    found = compare_live(monitors, services, states, versions)
    if not found:
        return []
    configured = await _directions(runner, [f"{f.model}@{f.version_label}" for f in found])
    if not configured:
        return found

    def direction(key: str) -> MetricDirection | None:
        return configured.get(key) or known_direction(key)

    return compare_live(monitors, services, states, versions, direction)
