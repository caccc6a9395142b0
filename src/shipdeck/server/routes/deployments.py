"""Services and environments: what is deployed where, plans, and deploy/promote/rollback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from shipdeck.model import (
    ActionPlan,
    DeployAction,
    EnvironmentState,
    HealthCheck,
    HistoryEntry,
    ServiceSpec,
)
from shipdeck.server.routes.deps import WRITABLE, RunnerDep

router = APIRouter(prefix="/v1", tags=["deployments"])

Name = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(max_length=2000)]


class Deploy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: Name
    revision: Name
    env: Name
    expect: Name | None = None
    force: bool = False
    reason: Reason = ""


class Promote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: Name
    to_env: Name
    expect: Name | None = None
    force: bool = False
    reason: Reason = ""


class Rollback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: Name
    env: Name
    to: Name | None = None
    expect: Name | None = None
    reason: Reason = ""


QueryName = Annotated[str, Query(min_length=1, max_length=200)]


@router.get("/services")
async def services(runner: RunnerDep) -> list[ServiceSpec]:
    return await runner.services()


@router.get("/deployments")
async def deployments(runner: RunnerDep) -> list[EnvironmentState]:
    return await runner.deployments()


@router.get("/plan")
async def plan(
    runner: RunnerDep,
    action: DeployAction,
    service: QueryName,
    env: QueryName,
    revision: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> ActionPlan:
    """What an action would do, without doing it."""
    return await runner.plan(action, service, env, revision=revision)


Wait = Annotated[
    bool,
    Query(
        description="Answer once the action has ended (true) rather than once its deploy run"
        " has started (false: outcome running; follow the `deploy_finished` event)."
    ),
]


@router.post("/deploy", dependencies=WRITABLE)
async def deploy(body: Deploy, runner: RunnerDep, wait: Wait = False) -> HistoryEntry:
    """Deploy a revision; answers once its deploy run has started (see `wait`)."""
    return await runner.deploy(
        body.service,
        body.revision,
        body.env,
        expect=body.expect,
        force=body.force,
        reason=body.reason,
        wait=wait,
    )


@router.post("/promote", dependencies=WRITABLE)
async def promote(body: Promote, runner: RunnerDep, wait: Wait = False) -> HistoryEntry:
    return await runner.promote(
        body.service,
        body.to_env,
        expect=body.expect,
        force=body.force,
        reason=body.reason,
        wait=wait,
    )


@router.post("/rollback", dependencies=WRITABLE)
async def rollback(body: Rollback, runner: RunnerDep, wait: Wait = False) -> HistoryEntry:
    return await runner.rollback(
        body.service, body.env, to=body.to, expect=body.expect, reason=body.reason, wait=wait
    )


@router.get("/history")
async def history(
    runner: RunnerDep,
    service: QueryName,
    env: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[HistoryEntry]:
    return await runner.history(service, env, limit=limit)


@router.get("/health-checks")
async def health_checks(
    runner: RunnerDep,
    service: QueryName,
    env: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[HealthCheck]:
    """Scheduled health checks of a service (or one environment), newest first."""
    return await runner.health_checks(service, env, limit=limit)
