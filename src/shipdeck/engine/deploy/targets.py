"""Turning what an operator asked for (service, environment, revision) into a checked target.

Everything here only reads: unknown names raise NotFound/InvalidInput, impossible actions raise
Refused, and nothing is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from shipdeck.engine.deploy.deploy_store import DeployStore
from shipdeck.engine.deploy.gates import RevisionFacts
from shipdeck.engine.deploy.model_registries import VersionTable, model_uri
from shipdeck.engine.deploy.registry import Registry
from shipdeck.engine.runs.artifacts import artifact_path
from shipdeck.errors import InvalidInput, NotFound, Refused
from shipdeck.model import (
    DeployAction,
    ModelVersion,
    PipelineSpec,
    Run,
    RunDetail,
    RunStatus,
    ServiceSpec,
    TaskSpec,
    WorkspaceSpec,
)
from shipdeck.model.run import parse_id
from shipdeck.workspace.problems import did_you_mean

_RUN_REVISION = re.compile(r"[r#]?(\d+)")


class RunSource(Protocol):
    """What the resolver needs from the engine."""

    def get_run(self, run_id: str) -> Run: ...

    def run_detail(self, run_id: str) -> RunDetail: ...

    def runs(
        self, *, pipeline: str | None = None, limit: int = 50, before: str | None = None
    ) -> list[Run]: ...


@dataclass(frozen=True)
class Target:
    service: ServiceSpec
    env: str
    action: DeployAction
    from_revision: str | None
    to_revision: str
    source_env: str | None = None
    variables: dict[str, str] = field(default_factory=dict)


def pipeline_for(service: ServiceSpec, variables: dict[str, str]) -> PipelineSpec:
    """The tracked run of an action: `deploy`, then `health` when the service has one."""
    tasks = {
        "deploy": TaskSpec(
            name="deploy", run=service.deploy, env=variables, timeout=service.timeout
        )
    }
    if service.health:
        tasks["health"] = TaskSpec(
            name="health",
            run=service.health,
            env=variables,
            timeout=service.timeout,
            needs=("deploy",),
        )
    return PipelineSpec(
        name=f"deploy:{service.name}",
        description=f"deploy {service.name} ({service.source})",
        tasks=tasks,
    )


@dataclass(eq=False)
class TargetResolver:
    workspace: WorkspaceSpec
    registry: Registry
    store: DeployStore
    runs: RunSource
    external: dict[tuple[str, str], VersionTable] = field(default_factory=dict, init=False)
    """(registry, model) -> its versions, read by Deployments just before each plan."""

    # Names ------------------------------------------------------------------------------

    def service(self, name: str) -> ServiceSpec:
        service = self.workspace.services.get(name)
        if service is None:
            known = list(self.workspace.services)
            listed = ", ".join(known) or f"none declared in {self.workspace.file.name}"
            raise NotFound(
                f"unknown service {name!r}{did_you_mean(name, known)}; services: {listed}"
            )
        return service

    def service_and_env(self, service: str, env: str | None) -> ServiceSpec:
        """The service named, once `env` (when given) is known to be one of its environments."""
        spec = self.service(service)
        if env is not None:
            self.environment(spec, env)
        return spec

    def environment(self, service: ServiceSpec, env: str) -> str:
        if env not in service.environments:
            raise NotFound(
                f"service {service.name!r} has no environment {env!r}"
                f"{did_you_mean(env, service.environments)};"
                f" environments: {', '.join(service.environments)}"
            )
        return env

    def revision(self, service: ServiceSpec, ref: str) -> str:
        """The canonical revision (`v3`, `r12`) for what the user typed."""
        if service.registry is not None:
            return self.external_version(service, ref).revision
        if service.model is not None:
            return self.registry.resolve(service.model, ref).revision
        return f"r{self._pipeline_run(service, ref).id}"

    def _pipeline_run(self, service: ServiceSpec, ref: str) -> Run:
        pipeline, artifact = service.pipeline or "", service.artifact or ""
        text = ref.strip()
        if text in ("latest", "last"):
            runs = [
                r
                for r in self.runs.runs(pipeline=pipeline, limit=200)
                if r.status == RunStatus.SUCCEEDED
            ]
            with_artifact = self.registry.runs_with_artifact(artifact, [r.id for r in runs])
            for run in runs:
                if run.id in with_artifact:
                    return run
            raise NotFound(f"no successful run of {pipeline} has built {artifact} yet")
        match = _RUN_REVISION.fullmatch(text)
        run_id = parse_id(match.group(1), f"revision {ref!r} for {service.name}") if match else None
        if run_id is None:
            raise InvalidInput(
                f"bad revision {ref!r} for {service.name}: expected r<run id> (like r12) or latest"
            )
        run = self.runs.get_run(str(run_id))
        if run.pipeline != pipeline:
            raise InvalidInput(f"run {run.label} is a run of {run.pipeline}, not {pipeline}")
        if run.status != RunStatus.SUCCEEDED:
            raise InvalidInput(
                f"run {run.label} of {pipeline} {run.status.value}: only successful runs deploy"
            )
        if self.registry.run_artifact(run.id, artifact) is None:
            raise NotFound(f"run {run.label} of {pipeline} left no {artifact} to deploy")
        return run

    def external_version(self, service: ServiceSpec, ref: str) -> ModelVersion:
        """A version of a service's model held by its registry (as last read)."""
        key = (service.registry or "", service.model or "")
        table = self.external.get(key)
        if table is None:
            raise NotFound(f"model {key[1]!r} in {key[0]} has not been read")
        return table.resolve(ref)

    # Facts about a revision -------------------------------------------------------------

    def artifact(self, service: ServiceSpec, revision: str) -> str:
        """What SHIPDECK_ARTIFACT names: the stored file, or a registry's model URI."""
        if service.registry is not None:
            return model_uri(service.model or "", revision)
        return str(artifact_path(self.workspace.state_dir, self.artifact_sha(service, revision)))

    def artifact_sha(self, service: ServiceSpec, revision: str) -> str:
        if service.model is not None:
            return self.registry.resolve(service.model, revision).sha256
        run = self._pipeline_run(service, revision)
        sha = self.registry.run_artifact(run.id, service.artifact or "")
        assert sha is not None
        return sha

    def facts(self, service: ServiceSpec, revision: str) -> RevisionFacts:
        if service.registry is not None:
            version = self.external_version(service, revision)
            return RevisionFacts(revision=revision, metrics=version.metrics)
        if service.model is not None:
            version = self.registry.resolve(service.model, revision)
            build = _maybe(self.runs, version.run_id)
            return RevisionFacts(revision=revision, metrics=version.metrics, build_run=build)
        run = self._pipeline_run(service, revision)
        metrics = self.runs.run_detail(run.id).final_metrics()
        return RevisionFacts(revision=revision, metrics=metrics, build_run=run)

    # Actions ----------------------------------------------------------------------------

    def deploy(self, service_name: str, ref: str, env: str) -> Target:
        service = self.service(service_name)
        self.environment(service, env)
        revision = self.revision(service, ref)
        return self._target(service, env, DeployAction.DEPLOY, revision)

    def promote(self, service_name: str, to_env: str) -> Target:
        service = self.service(service_name)
        self.environment(service, to_env)
        index = service.environments.index(to_env)
        if index == 0:
            raise InvalidInput(
                f"{to_env} is the first environment of {service.name}: nothing comes before it"
                f" to promote from (use: shipdeck deploy {service.name} REVISION --env {to_env})"
            )
        source = service.environments[index - 1]
        revision = self.store.state(service.name, source).revision
        if revision is None:
            raise Refused(
                f"nothing is deployed in {source} of {service.name} to promote to {to_env}"
            )
        return self._target(service, to_env, DeployAction.PROMOTE, revision, source_env=source)

    def rollback(self, service_name: str, env: str, to: str | None) -> Target:
        service = self.service(service_name)
        self.environment(service, env)
        current = self.store.state(service.name, env).revision
        if current is None:
            raise Refused(f"{env} of {service.name} has nothing deployed: nothing to roll back")
        deployed = self.store.deployed_revisions(service.name, env)
        if to is None:
            previous = self.store.previous_revision(service.name, env)
            if previous is None:
                raise Refused(
                    f"{env} of {service.name} has no previous revision to roll back to"
                    f" (it only ever held {current})"
                )
            revision = previous
        else:
            revision = self.revision(service, to)
            if revision not in deployed:
                raise NotFound(
                    f"{revision} was never deployed to {env} of {service.name};"
                    f" deployed there: {', '.join(deployed)}"
                )
        if revision == current:
            raise Refused(f"{env} of {service.name} already holds {revision}")
        return self._target(service, env, DeployAction.ROLLBACK, revision)

    def _target(
        self,
        service: ServiceSpec,
        env: str,
        action: DeployAction,
        revision: str,
        *,
        source_env: str | None = None,
    ) -> Target:
        current = self.store.state(service.name, env).revision
        variables = {
            "SHIPDECK_SERVICE": service.name,
            "SHIPDECK_ENV": env,
            "SHIPDECK_REVISION": revision,
            "SHIPDECK_ARTIFACT": self.artifact(service, revision),
            "SHIPDECK_PREVIOUS_REVISION": current or "",
            "SHIPDECK_ACTION": action.value,
        }
        if service.registry is not None:
            variables["SHIPDECK_MODEL_SOURCE"] = self.external_version(service, revision).source
        return Target(
            service=service,
            env=env,
            action=action,
            from_revision=current,
            to_revision=revision,
            source_env=source_env,
            variables=variables,
        )


def _maybe(runs: RunSource, run_id: str) -> Run | None:
    try:
        return runs.get_run(run_id)
    except NotFound:
        return None
