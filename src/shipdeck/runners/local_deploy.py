"""The model-registry and deployment half of the local runner (mixed into LocalRunner)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Unpack, cast

from shipdeck import model as m
from shipdeck.engine import Engine
from shipdeck.engine.compare import compare
from shipdeck.engine.deployments import Deployments
from shipdeck.engine.registration import RegistrationHook
from shipdeck.errors import InvalidInput
from shipdeck.model.lineage import Lineage, lineage_flags
from shipdeck.runners.base import BaseRunner, compare_refs, version_ref, version_subject
from shipdeck.runners.local import LocalRunner
from shipdeck.runners.model_registries import ConfiguredRegistries

if TYPE_CHECKING:
    from shipdeck.engine.automation import Automation
    from shipdeck.engine.scheduler import Scheduler


class LocalDeployMethods:
    """Runner methods for models and deployments, over `self.deployer`."""

    deployer: Deployments
    _check_writable: Callable[[str], None]
    _configured: Callable[..., None]
    """LocalRunner's: the configuration in step with the workspace file (acting=True refuses
    while the file does not load)."""

    async def models(self) -> list[m.ModelSummary]:
        return self.deployer.registry.models()

    async def model_versions(self, model: str) -> list[m.ModelVersion]:
        registry = self.deployer.registry
        held = self._held_elsewhere(model)
        if held is not None and model not in registry.model_names():
            # A service deploys it from another runner's registry: its deploy dialog and
            # matrix read the versions there.
            return await self.deployer.registries.registry(held).model_versions(model)
        if model not in registry.model_names():
            registry.resolve(model, "latest")  # raises NotFound naming the known models
        versions = registry.versions(model)
        found = self.deployer.engine.lineages([(v.run_id, v.task) for v in versions])
        return [
            version if lineage is None else version.model_copy(update={"lineage": lineage})
            for version, lineage in zip(versions, found, strict=True)
        ]

    def _held_elsewhere(self, model: str) -> str | None:
        """The registry runner a service names for `model`, if one does."""
        services = self.deployer.workspace.services.values()
        return next((s.registry for s in services if s.model == model and s.registry), None)

    def _lineage(self, version: m.ModelVersion) -> Lineage | None:
        """What the version came from: its run's code and the inputs of its task and of the
        tasks that task needs (None when the run is gone)."""
        (found,) = self.deployer.engine.lineages([(version.run_id, version.task)])
        return found

    async def alias(self, model: str, alias: str, version: str) -> m.AliasMove:
        self._check_writable(f"move {model}@{alias}")
        move = self.deployer.registry.set_alias(
            model, alias, version, user=self.deployer.user, now=self.deployer.clock()
        )
        self.deployer.engine.feed.publish(m.EventKind.ALIAS_MOVED, move)
        return move

    async def alias_moves(self, model: str | None = None, *, limit: int = 200) -> list[m.AliasMove]:
        return self.deployer.registry.alias_moves(model)[:limit]

    async def compare(self, refs: list[str]) -> m.Comparison:
        compare_refs(refs)
        self._configured()
        subjects = [await self._subject(ref) for ref in refs]
        comparison = compare(subjects, self.deployer.workspace.direction)
        flags = lineage_flags([s.label for s in subjects], [s.lineage for s in subjects])
        return comparison.model_copy(update={"lineage": flags})

    async def _subject(self, ref: str) -> m.CompareSubject:
        parts = version_ref(ref)
        if parts is None:
            return await cast(BaseRunner, self).run_subject(ref)
        model, wanted = parts
        version = self.deployer.registry.resolve(model, wanted)
        return version_subject(model, version, self._lineage(version))

    async def services(self) -> list[m.ServiceSpec]:
        self._configured()
        return list(self.deployer.workspace.services.values())

    async def deployments(self) -> list[m.EnvironmentState]:
        self._configured()
        return self.deployer.deployments()

    async def plan(
        self, action: m.DeployAction, service: str, env: str, *, revision: str | None = None
    ) -> m.ActionPlan:
        self._configured()
        if action == m.DeployAction.DEPLOY:
            if revision is None:
                raise InvalidInput("a deploy plan needs the revision to deploy")
            return await self.deployer.plan_deploy(service, revision, env)
        if action == m.DeployAction.PROMOTE:
            return await self.deployer.plan_promote(service, env)
        return await self.deployer.plan_rollback(service, env, revision)

    async def deploy(
        self, service: str, revision: str, env: str, **options: Unpack[m.DeployOptions]
    ) -> m.HistoryEntry:
        self._configured(acting=True)
        return await self.deployer.deploy(service, revision, env, **options)

    async def promote(
        self, service: str, to_env: str, **options: Unpack[m.DeployOptions]
    ) -> m.HistoryEntry:
        self._configured(acting=True)
        return await self.deployer.promote(service, to_env, **options)

    async def rollback(
        self, service: str, env: str, **options: Unpack[m.RollbackOptions]
    ) -> m.HistoryEntry:
        self._configured(acting=True)
        return await self.deployer.rollback(service, env, **options)

    async def history(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[m.HistoryEntry]:
        self._configured()
        return self.deployer.history(service, env, limit=limit)


class DeployingLocalRunner(LocalDeployMethods, LocalRunner):
    """The local runner with models and deployments: what `open_local_runner` returns."""

    deploys = True

    def __init__(
        self,
        engine: Engine,
        *,
        user: str | None = None,
        name: str = "local",
        clock: Callable[[], datetime] | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__(engine, user=user, name=name, read_only=read_only)
        registries = ConfiguredRegistries()
        if clock is None:
            self.deployer = Deployments(engine, user=self.user, registries=registries)
        else:
            self.deployer = Deployments(engine, user=self.user, clock=clock, registries=registries)

    def _use(self, spec: m.WorkspaceSpec) -> None:
        super()._use(spec)
        # Deployments and its parts were handed the workspace when they were made.
        self.deployer.workspace = spec
        self.deployer.targets.workspace = spec
        for hook in self.engine.on_task_succeeded:
            if isinstance(hook, RegistrationHook):
                hook.workspace = spec

    async def close(self) -> None:
        if self.automation is not None:
            await self.automation.stop()
        await super().close()
        if self.automation is not None:
            await self.automation.idle()  # their runs ended with the engine: outcomes recorded
        await self.deployer.close()

    # Automation (appended: scheduled health checks and promotion policies) ----------------

    automation: Automation | None = None

    def start_scheduling(self, *, clock: Callable[[], float] | None = None) -> Scheduler:
        """As LocalRunner's, and the scheduler also runs the services' scheduled health
        checks and promotion policies (engine/automation.py)."""
        from shipdeck.engine.automation import Automation

        scheduler = super().start_scheduling(clock=clock)
        if self.automation is None:
            self.automation = Automation(self.deployer)
            scheduler.watchers.append(self.automation.tick)
        return scheduler

    @property
    def scheduling(self) -> bool:
        """As LocalRunner's, and also while a service declares scheduled health checks or a
        promotion policy: an idle daemon would leave them undone."""
        if self.automation is None:
            return super().scheduling
        automatic = any(
            service.health_every or service.auto_promote is not None
            for service in self.deployer.workspace.services.values()
        )
        return automatic or super().scheduling

    async def health_checks(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[m.HealthCheck]:
        """Scheduled health checks of a service (or one environment), newest first."""
        from shipdeck.engine.automation_store import AutomationStore

        self._configured()
        spec = self.deployer.targets.service(service)
        if env is not None:
            self.deployer.targets.environment(spec, env)
        return AutomationStore(self.deployer.ledger).checks(service, env, limit=limit)
