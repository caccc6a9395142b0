"""The registries a workspace's services name (`registry = "lab"`): configured runners of a
kind that holds models, opened when a service first acts and kept until the runner closes."""

from __future__ import annotations

from collections.abc import Callable

from shipdeck.config import RunnerEntry, load_runners
from shipdeck.engine.deploy.model_registries import ModelRegistry
from shipdeck.errors import InvalidInput

REGISTRY_KINDS = ("mlflow",)
"""Runner kinds whose model registry a service can deploy from."""


def _open_mlflow(entry: RunnerEntry) -> ModelRegistry:
    from shipdeck.runners.mlflow.open import open_api
    from shipdeck.runners.mlflow.runner import MlflowRunner
    from shipdeck.runners.read_only import configured_read_only

    return configured_read_only(entry, MlflowRunner(open_api(entry)))


class ConfiguredRegistries:
    """Registries by runner name, from the user configuration (read when a name is first
    asked, so a runner added meanwhile is found without a restart)."""

    def __init__(
        self,
        entries: Callable[[], list[RunnerEntry]] = load_runners,
        opener: Callable[[RunnerEntry], ModelRegistry] = _open_mlflow,
    ) -> None:
        self._entries = entries
        self._opener = opener
        self._open: dict[str, ModelRegistry] = {}

    def registry(self, name: str) -> ModelRegistry:
        if name in self._open:
            return self._open[name]
        entries = self._entries()
        entry = next((e for e in entries if e.name == name), None)
        if entry is None:
            known = [e.name for e in entries if e.kind in REGISTRY_KINDS]
            listed = ", ".join(known) or "none configured"
            raise InvalidInput(
                f"registry {name!r} is not a configured runner (model registries: {listed};"
                f" add one: shipdeck runner add {name} URL --kind mlflow)"
            )
        if entry.kind not in REGISTRY_KINDS:
            raise InvalidInput(
                f"registry {name!r} is a {entry.kind} runner, which holds no model registry"
                f" (a registry is a runner of kind {' or '.join(REGISTRY_KINDS)})"
            )
        self._open[name] = registry = self._opener(entry)
        return registry

    async def close(self) -> None:
        opened, self._open = list(self._open.values()), {}
        for registry in opened:
            await registry.close()
