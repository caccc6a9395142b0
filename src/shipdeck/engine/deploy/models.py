"""The model registry as a runner shows it: versions with what they came from, alias moves
made and published, and versions as the subjects of a comparison."""

from __future__ import annotations

from shipdeck import model as m
from shipdeck.engine.deploy.deployments import Deployments
from shipdeck.model.lineage import Lineage


class ModelBook:
    def __init__(self, deployer: Deployments) -> None:
        self.deployer = deployer
        self.registry = deployer.registry

    async def versions(self, model: str) -> list[m.ModelVersion]:
        """The versions of `model` with their lineage; read from another runner's registry
        when a service deploys the model from there (its deploy dialog and matrix)."""
        held = self._held_elsewhere(model)
        if held is not None and model not in self.registry.model_names():
            return await self.deployer.registries.registry(held).model_versions(model)
        if model not in self.registry.model_names():
            self.registry.resolve(model, "latest")  # raises NotFound naming the known models
        versions = self.registry.versions(model)
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

    def move_alias(self, model: str, alias: str, version: str) -> m.AliasMove:
        """Point `model@alias` at `version`, recorded with who and when, and published."""
        move = self.registry.set_alias(
            model, alias, version, user=self.deployer.user, now=self.deployer.clock()
        )
        self.deployer.engine.feed.publish(m.EventKind.ALIAS_MOVED, move)
        return move

    def subject(self, model: str, wanted: str) -> m.CompareSubject:
        """Version `wanted` (a number or an alias) of `model` as a comparison subject."""
        version = self.registry.resolve(model, wanted)
        return m.CompareSubject.of_version(model, version, self._lineage(version))
