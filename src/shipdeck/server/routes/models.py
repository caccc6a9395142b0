"""The model registry: models, their versions, aliases, and side-by-side comparison."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from shipdeck.model import AliasMove, Comparison, ModelSummary, ModelVersion
from shipdeck.server.routes.deps import WRITABLE, RunnerDep
from shipdeck.server.routes.params import Limit, OptionalNameQuery

router = APIRouter(prefix="/v1", tags=["models"])

ModelName = Annotated[str, Path(min_length=1, max_length=200)]
Ref = Annotated[str, Field(min_length=1, max_length=200)]


class SetAlias(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alias: Ref
    version: Ref


@router.get("/models")
async def models(runner: RunnerDep) -> list[ModelSummary]:
    return await runner.models()


@router.get("/models/{model}/versions")
async def model_versions(model: ModelName, runner: RunnerDep) -> list[ModelVersion]:
    return await runner.model_versions(model)


@router.post("/models/{model}/aliases", dependencies=WRITABLE)
async def alias(model: ModelName, body: SetAlias, runner: RunnerDep) -> AliasMove:
    return await runner.alias(model, body.alias, body.version)


@router.get("/alias-moves")
async def alias_moves(
    runner: RunnerDep,
    model: OptionalNameQuery = None,
    limit: Limit = 200,
) -> list[AliasMove]:
    """Alias moves (of one model, or of all), newest first."""
    return await runner.alias_moves(model, limit=limit)


@router.get("/compare")
async def compare(
    runner: RunnerDep,
    ref: Annotated[list[str], Query(min_length=1, max_length=20)],
) -> Comparison:
    """Runs (`12`, `last`) or model versions (`churn@v3`); deltas are against the first."""
    return await runner.compare(ref)
