"""Model registries outside the workspace (an MLflow server's), as deployments use them.

A service with `registry = "lab"` deploys versions that runner holds. The engine does not know
what an MLflow runner is: it is handed `Registries`, which finds a registry by the configured
runner's name, and asks it two things of the Runner contract, a model's versions and an alias
move. The versions are read once before each plan (`VersionTable`), so planning stays a pure
read of what was fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import AliasMove, ModelVersion

_VERSION_REF = re.compile(r"[vV]?(\d+)")


class ModelRegistry(Protocol):
    """What deployments need of a registry runner (the Runner contract's own methods)."""

    async def model_versions(self, model: str) -> list[ModelVersion]: ...

    async def alias(
        self, model: str, alias: str, version: str, *, reason: str = ""
    ) -> AliasMove: ...

    async def close(self) -> None: ...


class Registries(Protocol):
    """The registries of configured runners, by name."""

    def registry(self, name: str) -> ModelRegistry:
        """Raises InvalidInput, one line, for a name that is not a configured registry."""
        ...

    async def close(self) -> None: ...


class NoRegistries:
    """For an engine given none (tests, embedders): every name is unknown."""

    def registry(self, name: str) -> ModelRegistry:
        raise InvalidInput(f"registry {name!r}: this runner has no configured registries")

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class VersionTable:
    """One model's versions in one registry, newest first, as read before an action."""

    registry: str
    model: str
    versions: tuple[ModelVersion, ...]

    def resolve(self, ref: str) -> ModelVersion:
        """`v3`, `3`, an alias (`champion`) or `latest`."""
        text = ref.strip()
        where = f"model {self.model!r} in {self.registry}"
        if not self.versions:
            raise NotFound(f"{where} has no versions")
        match = _VERSION_REF.fullmatch(text)
        for version in self.versions:
            if (match and version.version == match.group(1)) or text in version.aliases:
                return version
        if text == "latest":
            return self.versions[0]
        if match:
            raise NotFound(
                f"{where} has no version v{match.group(1)}"
                f" (v{self.versions[-1].version}..v{self.versions[0].version})"
            )
        aliases = sorted({a for v in self.versions for a in v.aliases})
        hint = f"; aliases: {', '.join(aliases)}" if aliases else "; it has no aliases"
        raise NotFound(f"{where} has no version or alias {text!r}{hint}")


def model_uri(model: str, revision: str) -> str:
    """The registry's URI of a version (`models:/churn/3`), what MLflow's clients load."""
    return f"models:/{model}/{revision.removeprefix('v')}"
