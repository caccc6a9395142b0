"""FrozenTimes plus the models-and-deployments half, for snapshots and screenshots.

Run times are pinned by FrozenTimes; model versions get their run's slot on the same grid.
Deploy history, environment and alias times pass through: pin them by giving the runner's
deployments a deterministic clock.
"""

from __future__ import annotations

from shipdeck.model import (
    ActionPlan,
    AliasMove,
    Comparison,
    DeployAction,
    EnvironmentState,
    HistoryEntry,
    ModelSummary,
    ModelVersion,
    ServiceSpec,
)
from shipdeck.runners.protocol import DeployRunner, Runner
from shipdeck.tui.frozen import BASE, RUN_SPACING, FrozenTimes


class FrozenDeployTimes(FrozenTimes):
    def __init__(self, runner: Runner) -> None:
        super().__init__(runner)
        if not isinstance(runner, DeployRunner):
            raise TypeError(f"{runner.name} does not offer models and deployments")
        self.deployer: DeployRunner = runner

    async def models(self) -> list[ModelSummary]:
        return await self.deployer.models()

    async def model_versions(self, model: str) -> list[ModelVersion]:
        versions = await self.deployer.model_versions(model)
        return [
            v.model_copy(update={"created_at": BASE + RUN_SPACING * int(v.run_id)})
            for v in versions
        ]

    async def alias(self, model: str, alias: str, version: str) -> AliasMove:
        return await self.deployer.alias(model, alias, version)

    async def alias_moves(self, model: str | None = None, *, limit: int = 200) -> list[AliasMove]:
        return await self.deployer.alias_moves(model, limit=limit)

    async def compare(self, refs: list[str]) -> Comparison:
        return await self.deployer.compare(refs)

    async def services(self) -> list[ServiceSpec]:
        return await self.deployer.services()

    async def deployments(self) -> list[EnvironmentState]:
        return await self.deployer.deployments()

    async def plan(
        self, action: DeployAction, service: str, env: str, *, revision: str | None = None
    ) -> ActionPlan:
        return await self.deployer.plan(action, service, env, revision=revision)

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
        return await self.deployer.rollback(
            service, env, to=to, expect=expect, reason=reason, wait=wait
        )

    async def history(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HistoryEntry]:
        return await self.deployer.history(service, env, limit=limit)
