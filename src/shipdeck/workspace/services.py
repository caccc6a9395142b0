"""The `[metrics]` and `[services]` sections: metric directions and deployable services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipdeck.model import GateKind, GateSpec, MetricDirection, PipelineSpec, ServiceSpec
from shipdeck.workspace.artifact_paths import artifact_problem
from shipdeck.workspace.automation import AUTOMATION_KEYS, parse_automation
from shipdeck.workspace.fields import Fields, as_table, named_tables
from shipdeck.workspace.gates import parse_gate
from shipdeck.workspace.locate import KeyPath
from shipdeck.workspace.pipelines import NAME, NAME_RULE, registered_models
from shipdeck.workspace.problems import Problems, describe, did_you_mean, not_an_environment
from shipdeck.workspace.service_registry import (
    REGISTRY_KEYS,
    parse_aliases,
    parse_registry,
    registry_gate_problem,
)

if TYPE_CHECKING:
    from shipdeck.workspace.loader import SectionContext

SERVICE_KEYS = (
    "pipeline",
    "artifact",
    "model",
    "environments",
    "deploy",
    "health",
    "timeout",
    "gates",
    *AUTOMATION_KEYS,
    *REGISTRY_KEYS,
)


def metrics_section(raw: object, context: SectionContext) -> dict[str, Any]:
    """`[metrics]`: `key = "max"` or `"min"` per metric."""
    problems = context.problems
    table = as_table(raw, ("metrics",), problems)
    directions: dict[str, MetricDirection] = {}
    for key, value in (table or {}).items():
        if value in ("max", "min"):
            directions[key] = MetricDirection(value)
        else:
            problems.add(("metrics", key), f'must be "max" or "min", got {describe(value)}')
    return {"metrics": directions}


def services_section(raw: object, context: SectionContext) -> dict[str, Any]:
    """`[services.NAME]`: what each service deploys, where, and with which commands."""
    problems = context.problems
    pipelines: dict[str, PipelineSpec] = context.loaded.get("pipelines", {})

    def check_name(name: str, path: KeyPath) -> None:
        if not NAME.fullmatch(name):
            problems.add(path, f"service name {NAME_RULE}")

    services: dict[str, ServiceSpec] = {}
    for name, fields in named_tables(raw, ("services",), problems, check_name):
        service = _service(name, fields, pipelines)
        if service is not None:
            services[name] = service
    return {"services": services}


def _service(name: str, fields: Fields, pipelines: dict[str, PipelineSpec]) -> ServiceSpec | None:
    table, path, problems = fields.table, fields.path, fields.problems
    problems_before = len(problems)
    fields.check_keys(SERVICE_KEYS)
    pipeline = fields.optional_string("pipeline")
    model = fields.optional_string("model")
    artifact = fields.optional_string("artifact")
    if ("pipeline" in table) == ("model" in table):
        problems.add(path, "set exactly one of 'pipeline' (deploy its runs) or 'model'")
    if pipeline is not None:
        _check_pipeline(pipeline, fields.at("pipeline"), problems, pipelines)
        if "artifact" not in table:
            problems.add(path, "a pipeline service needs 'artifact' (the file its runs build)")
    if artifact is not None:
        if (problem := artifact_problem(artifact)) is not None:
            problems.add(fields.at("artifact"), problem)
        elif "model" in table and "pipeline" not in table:
            problems.add(fields.at("artifact"), "only pipeline services take 'artifact'")
    registry = parse_registry(fields, model)
    if model is not None and "registry" not in table:
        _check_model(model, fields.at("model"), problems, pipelines)
    environments = _environments(fields)
    deploy = fields.string("deploy", required=True)
    health = fields.optional_string("health")
    timeout = fields.duration("timeout", allow_zero=False)
    gates = _gates(fields, environments, pipelines, registry)
    automation = parse_automation(fields, environments=environments, health=health, model=model)
    if registry is not None and "auto_promote" in table:
        problems.add(
            fields.at("auto_promote"),
            f"promotion policies follow versions this workspace registers; {registry} holds"
            " this model",
        )
    aliases = parse_aliases(fields, environments, model)
    if len(problems) > problems_before:
        return None
    return ServiceSpec(
        name=name,
        pipeline=pipeline,
        artifact=artifact if pipeline is not None else None,
        model=model,
        registry=registry,
        environments=tuple(environments),
        deploy=deploy,
        health=health,
        timeout=timeout,
        gates=gates,
        health_every=automation.health_every,
        auto_rollback=automation.auto_rollback,
        rollback_after=automation.rollback_after,
        auto_promote=automation.auto_promote,
        aliases=aliases,
    )


def _check_pipeline(
    pipeline: str, where: KeyPath, problems: Problems, pipelines: dict[str, PipelineSpec]
) -> None:
    if pipeline not in pipelines:
        problems.add(where, f"unknown pipeline {pipeline!r}{did_you_mean(pipeline, pipelines)}")


def _check_model(
    model: str, where: KeyPath, problems: Problems, pipelines: dict[str, PipelineSpec]
) -> None:
    registered = registered_models(pipelines)
    if model not in registered:
        hint = did_you_mean(model, registered)
        problems.add(
            where,
            f"no task registers model {model!r}{hint}"
            " (add registers = { model, artifact } to the task that builds it)",
        )


def _environments(fields: Fields) -> list[str]:
    where = fields.at("environments")
    if "environments" not in fields.table:
        fields.problems.add(fields.path, "missing required key 'environments'")
        return []
    environments = fields.string_list("environments")
    if not environments and isinstance(fields.table["environments"], list):
        fields.problems.add(where, "must name at least one environment")
    seen: set[str] = set()
    for index, env in enumerate(environments):
        if not NAME.fullmatch(env):
            fields.problems.add(
                where, f"environment {env!r} {NAME_RULE}", line_of=(*where, str(index))
            )
        elif env in seen:
            fields.problems.add(where, f"environment {env!r} is listed twice")
        seen.add(env)
    return environments


def _gates(
    fields: Fields,
    environments: list[str],
    pipelines: dict[str, PipelineSpec],
    registry: str | None = None,
) -> dict[str, tuple[GateSpec, ...]]:
    raw = fields.table_of("gates")
    if raw is None:
        return {}
    gates_path, problems = fields.at("gates"), fields.problems
    gates: dict[str, tuple[GateSpec, ...]] = {}
    for env in raw:
        where = (*gates_path, env)
        if env not in environments:
            problems.add(where, not_an_environment(env, environments, repr))
            continue
        items = Fields(raw, gates_path, problems).string_list(env)
        parsed: list[GateSpec] = []
        for index, text in enumerate(items):
            line_of = (*where, str(index))
            try:
                gate = parse_gate(text)
            except ValueError as error:
                problems.add(where, str(error), line_of=line_of)
                continue
            if message := registry_gate_problem(gate, registry):
                problems.add(where, f"gate {text!r}: {message}", line_of=line_of)
                continue
            if gate.kind == GateKind.PIPELINE and gate.pipeline not in pipelines:
                hint = did_you_mean(gate.pipeline or "", pipelines)
                problems.add(
                    where,
                    f"gate {text!r}: unknown pipeline {gate.pipeline!r}{hint}",
                    line_of=line_of,
                )
                continue
            if gate.kind == GateKind.SOAK:
                message = _soak_problem(gate, env, environments)
                if message:
                    problems.add(where, f"gate {text!r}: {message}", line_of=line_of)
                    continue
            parsed.append(gate)
        gates[env] = tuple(parsed)
    return gates


def _soak_problem(gate: GateSpec, env: str, environments: list[str]) -> str:
    soak_env = gate.environment or ""
    if soak_env not in environments:
        hint = did_you_mean(soak_env, environments)
        return f"{soak_env!r} is not an environment of this service{hint}"
    if environments.index(soak_env) >= environments.index(env):
        return f"{soak_env!r} must come before {env!r} in environments"
    return ""
