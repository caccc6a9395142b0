"""An MLflow model registry as shipdeck's: models, versions with their source runs' metrics and
params, aliases, and version references (`churn@v3`, `churn@3`, `churn@champion`).

A model's versions are paged 100 at a time and kept for `VERSIONS_TTL` seconds, so the Models
view's list of models and its list of versions (asked one after the other) cost one read. The
source runs of a page of versions come in one run search, not one request per version.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

from shipdeck.errors import InvalidInput
from shipdeck.model import ModelSummary, ModelVersion
from shipdeck.runners.mlflow import api as mlflow_api
from shipdeck.runners.mlflow import mapping
from shipdeck.runners.mlflow.api import MlflowApi, MlflowRun, RegisteredModel, every_page
from shipdeck.runners.mlflow.runs import RunReader

VERSIONS_TTL = 2.0
"""Seconds a model's versions are reused: long enough for one screen's loading, short enough
that a refresh sees a new version."""


class Registry:
    def __init__(self, api: MlflowApi, runs: RunReader) -> None:
        self.api = api
        self.runs = runs
        self._versions: dict[str, tuple[float, list[mlflow_api.ModelVersion]]] = {}

    async def registered_models(self) -> list[RegisteredModel]:
        return await every_page(self.api.registered_models)

    async def raw_versions(self, model: str) -> list[mlflow_api.ModelVersion]:
        """Every version of the model, newest first (a page of 100 per request)."""
        cached = self._versions.get(model)
        if cached is not None and time.monotonic() - cached[0] < VERSIONS_TTL:
            return cached[1]
        found: list[mlflow_api.ModelVersion] = await every_page(partial(self.api.versions, model))
        self._versions[model] = (time.monotonic(), found)
        return found

    def forget(self, model: str) -> None:
        self._versions.pop(model, None)

    async def models(self) -> list[ModelSummary]:
        models = await self.registered_models()
        versions = await asyncio.gather(*(self.raw_versions(m.name) for m in models))
        summaries = [
            mapping.summary(model, found) for model, found in zip(models, versions, strict=True)
        ]
        return sorted(summaries, key=lambda s: s.name)

    async def model_versions(self, model: str) -> list[ModelVersion]:
        async def with_sources() -> tuple[list[mlflow_api.ModelVersion], dict[str, MlflowRun]]:
            found = await self.raw_versions(model)
            return found, await self.runs.by_ids([v.run_id for v in found])

        registered, (found, sources) = await asyncio.gather(
            self.api.registered_model(model), with_sources()
        )
        aliases = mapping.aliases_by_version(registered)
        return [
            mapping.version(v, aliases.get(v.version, []), sources.get(v.run_id)) for v in found
        ]

    async def version_number(self, model: str, ref: str) -> str:
        """`v3`, `3` or an alias of the model, as MLflow's version string."""
        text = ref.strip()
        number = text[1:] if text[:1] in ("v", "V") and text[1:].isdigit() else text
        if number.isdigit():
            await self.api.version(model, number)
            return number
        if not text:
            raise InvalidInput(f"model {model!r}: expected a version (v3, 3) or an alias")
        return (await self.api.version_by_alias(model, text)).version

    async def version(self, model: str, ref: str) -> ModelVersion:
        number = await self.version_number(model, ref)
        found, registered = await asyncio.gather(
            self.api.version(model, number), self.api.registered_model(model)
        )
        sources = await self.runs.by_ids([found.run_id])
        aliases = mapping.aliases_by_version(registered).get(number, [])
        return mapping.version(found, aliases, sources.get(found.run_id))
