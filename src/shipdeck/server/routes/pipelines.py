"""The workspace's pipelines."""

from __future__ import annotations

from fastapi import APIRouter

from shipdeck.model import PipelineSpec
from shipdeck.server.routes.deps import RunnerDep

router = APIRouter(prefix="/v1", tags=["pipelines"])


@router.get("/pipelines")
async def pipelines(runner: RunnerDep) -> list[PipelineSpec]:
    return await runner.pipelines()
