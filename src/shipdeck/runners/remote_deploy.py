"""Placeholders for the model and deployment methods of runners that do not offer them yet.

Mixed into RemoteRunner until the HTTP routes for these methods exist: each method fails with a
one-line Unavailable error instead of the runner not satisfying the Runner protocol at all.
"""

from __future__ import annotations

from typing import NoReturn

from shipdeck.errors import Unavailable
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


def _unsupported(what: str) -> NoReturn:
    raise Unavailable(f"{what} is not available over this runner's HTTP API yet; run it locally")


class UnsupportedDeployMethods:
    async def models(self) -> list[ModelSummary]:
        _unsupported("models")

    async def model_versions(self, model: str) -> list[ModelVersion]:
        _unsupported("models")

    async def alias(self, model: str, alias: str, version: str) -> AliasMove:
        _unsupported("alias")

    async def compare(self, refs: list[str]) -> Comparison:
        _unsupported("compare")

    async def services(self) -> list[ServiceSpec]:
        _unsupported("services")

    async def deployments(self) -> list[EnvironmentState]:
        _unsupported("deployments")

    async def plan(
        self, action: DeployAction, service: str, env: str, *, revision: str | None = None
    ) -> ActionPlan:
        _unsupported(action.value)

    async def deploy(
        self,
        service: str,
        revision: str,
        env: str,
        *,
        expect: str | None = None,
        force: bool = False,
        reason: str = "",
    ) -> HistoryEntry:
        _unsupported("deploy")

    async def promote(
        self,
        service: str,
        to_env: str,
        *,
        expect: str | None = None,
        force: bool = False,
        reason: str = "",
    ) -> HistoryEntry:
        _unsupported("promote")

    async def rollback(
        self,
        service: str,
        env: str,
        *,
        to: str | None = None,
        expect: str | None = None,
        reason: str = "",
    ) -> HistoryEntry:
        _unsupported("rollback")

    async def history(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HistoryEntry]:
        _unsupported("history")
