"""The model-registry and deployment half of the local runner (mixed into LocalRunner)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, cast

from shipdeck.engine import Engine
from shipdeck.engine.compare import compare
from shipdeck.engine.deployments import Deployments
from shipdeck.engine.registration import RegistrationHook
from shipdeck.errors import InvalidInput
from shipdeck.model import (
    ActionPlan,
    AliasMove,
    CompareSubject,
    Comparison,
    DeployAction,
    EnvironmentState,
    EventKind,
    HistoryEntry,
    ModelSummary,
    ModelVersion,
    RunDetail,
    ServiceSpec,
    WorkspaceSpec,
)
from shipdeck.model.lineage import Lineage, lineage_flags
from shipdeck.runners.local import LocalRunner

MAX_COMPARED = 12


class _RunLookup(Protocol):
    """What the mixin uses of the runner it is mixed into."""

    async def resolve_run(self, ref: str) -> str: ...

    async def run(self, run_id: str) -> RunDetail: ...


class LocalDeployMethods:
    """Runner methods for models and deployments, over `self.deployer`."""

    deployer: Deployments
    _configured: Callable[..., None]
    """LocalRunner's: the configuration in step with the workspace file (acting=True refuses
    while the file does not load)."""

    async def models(self) -> list[ModelSummary]:
        return self.deployer.registry.models()

    async def model_versions(self, model: str) -> list[ModelVersion]:
        registry = self.deployer.registry
        if model not in registry.model_names():
            registry.resolve(model, "latest")  # raises NotFound naming the known models
        versions = registry.versions(model)
        found = self.deployer.engine.lineages([(v.run_id, v.task) for v in versions])
        return [
            version if lineage is None else version.model_copy(update={"lineage": lineage})
            for version, lineage in zip(versions, found, strict=True)
        ]

    def _lineage(self, version: ModelVersion) -> Lineage | None:
        """What the version came from: its run's code and the inputs of its task and of the
        tasks that task needs (None when the run is gone)."""
        (found,) = self.deployer.engine.lineages([(version.run_id, version.task)])
        return found

    async def alias(self, model: str, alias: str, version: str) -> AliasMove:
        move = self.deployer.registry.set_alias(
            model, alias, version, user=self.deployer.user, now=self.deployer.clock()
        )
        self.deployer.engine.feed.publish(EventKind.ALIAS_MOVED, move)
        return move

    async def alias_moves(self, model: str | None = None, *, limit: int = 200) -> list[AliasMove]:
        return self.deployer.registry.alias_moves(model)[:limit]

    async def compare(self, refs: list[str]) -> Comparison:
        if len(refs) < 2:
            raise InvalidInput("compare needs at least two runs or model versions")
        if len(refs) > MAX_COMPARED:
            raise InvalidInput(f"compare takes at most {MAX_COMPARED} at once, got {len(refs)}")
        self._configured()
        subjects = [await self._subject(ref) for ref in refs]
        comparison = compare(subjects, self.deployer.workspace.direction)
        flags = lineage_flags([s.label for s in subjects], [s.lineage for s in subjects])
        return comparison.model_copy(update={"lineage": flags})

    async def _subject(self, ref: str) -> CompareSubject:
        model, at, version_ref = ref.partition("@")
        if at:
            if not model or not version_ref:
                raise InvalidInput(f"bad reference {ref!r}: expected MODEL@VERSION like churn@v3")
            version = self.deployer.registry.resolve(model, version_ref)
            return CompareSubject(
                label=f"{model}@{version.revision}",
                run_id=version.run_id,
                model=model,
                version=version.version,
                params=version.params,
                metrics=version.metrics,
                lineage=self._lineage(version),
            )
        runs = cast(_RunLookup, self)
        detail = await runs.run(await runs.resolve_run(ref))
        return CompareSubject(
            label=detail.run.label,
            run_id=detail.run.id,
            params=detail.run.params,
            metrics=detail.final_metrics(),
            lineage=detail.lineage,
        )

    async def services(self) -> list[ServiceSpec]:
        self._configured()
        return list(self.deployer.workspace.services.values())

    async def deployments(self) -> list[EnvironmentState]:
        self._configured()
        return self.deployer.deployments()

    async def plan(
        self,
        action: DeployAction,
        service: str,
        env: str,
        *,
        revision: str | None = None,
    ) -> ActionPlan:
        self._configured()
        if action == DeployAction.DEPLOY:
            if revision is None:
                raise InvalidInput("a deploy plan needs the revision to deploy")
            return self.deployer.plan_deploy(service, revision, env)
        if action == DeployAction.PROMOTE:
            return self.deployer.plan_promote(service, env)
        return self.deployer.plan_rollback(service, env, revision)

    async def deploy(
        self,
        service: str,
        revision: str,
        env: str,
        *,
        expect: str | None = None,
        force: bool = False,
        reason: str = "",
        wait: bool = True,
    ) -> HistoryEntry:
        self._configured(acting=True)
        return await self.deployer.deploy(
            service, revision, env, expect=expect, force=force, reason=reason, wait=wait
        )

    async def promote(
        self,
        service: str,
        to_env: str,
        *,
        expect: str | None = None,
        force: bool = False,
        reason: str = "",
        wait: bool = True,
    ) -> HistoryEntry:
        self._configured(acting=True)
        return await self.deployer.promote(
            service, to_env, expect=expect, force=force, reason=reason, wait=wait
        )

    async def rollback(
        self,
        service: str,
        env: str,
        *,
        to: str | None = None,
        expect: str | None = None,
        reason: str = "",
        wait: bool = True,
    ) -> HistoryEntry:
        self._configured(acting=True)
        return await self.deployer.rollback(
            service, env, to=to, expect=expect, reason=reason, wait=wait
        )

    async def history(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HistoryEntry]:
        self._configured()
        return self.deployer.history(service, env, limit=limit)


class DeployingLocalRunner(LocalDeployMethods, LocalRunner):
    """The local runner with models and deployments: what `open_local_runner` returns."""

    def __init__(
        self,
        engine: Engine,
        *,
        user: str | None = None,
        name: str = "local",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(engine, user=user, name=name)
        if clock is None:
            self.deployer = Deployments(engine, user=self.user)
        else:
            self.deployer = Deployments(engine, user=self.user, clock=clock)

    def _use(self, spec: WorkspaceSpec) -> None:
        super()._use(spec)
        # Deployments and its parts were handed the workspace when they were made.
        self.deployer.workspace = spec
        self.deployer.targets.workspace = spec
        for hook in self.engine.on_task_succeeded:
            if isinstance(hook, RegistrationHook):
                hook.workspace = spec

    async def close(self) -> None:
        await super().close()
        await self.deployer.close()
