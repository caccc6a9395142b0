"""A runner with only a model registry: `models` and `model_versions`, nothing else.

A test double of the contract (not of a server): front ends must open with it, offer only what
it declares, and say why for the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from shipdeck.model import ModelSummary, ModelVersion
from shipdeck.model.capabilities import Capabilities, Capability, EventDelivery
from shipdeck.runners.base import BaseRunner

NOT_AN_EXECUTOR = "a model registry runs nothing"
DECLARED = Capabilities(
    kind="registry",
    can=frozenset({Capability.MODELS}),
    events=EventDelivery.NONE,
    reasons={
        what: NOT_AN_EXECUTOR
        for what in (
            Capability.TRIGGER,
            Capability.RERUN_ALL,
            Capability.RERUN_FAILED,
            Capability.RERUN_FROM,
            Capability.CANCEL,
        )
    },
)


class RegistryOnly(BaseRunner):
    def __init__(self, name: str = "models") -> None:
        self._name = name

    async def capabilities(self) -> Capabilities:
        return DECLARED

    async def models(self) -> list[ModelSummary]:
        # Numbers as strings: valid whether versions are numbers or strings.
        return [ModelSummary.model_validate({"name": "churn", "versions": 1, "latest": "1"})]

    async def model_versions(self, model: str) -> list[ModelVersion]:
        version = {
            "model": "churn",
            "version": "1",
            "run_id": "1",
            "task": "fit",
            "metrics": {"auc": 0.91},
            "sha256": "0" * 64,
            "created_at": datetime(2026, 1, 5, 9, tzinfo=UTC),
        }
        return [ModelVersion.model_validate(version)] if model == "churn" else []
