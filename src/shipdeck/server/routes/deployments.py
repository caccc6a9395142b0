"""Services and environments: what is deployed where, plans, and deploy/promote/rollback."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from fastapi import APIRouter, Depends, Query
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
from shipdeck.server.routes.params import Limit, NameQuery, OptionalNameQuery

router = APIRouter(prefix="/v1", tags=["deployments"])

Name = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(max_length=2000)]


_TARGET = {"service", "revision", "env", "to_env"}
"""The fields of an action's body that say what it acts on (positional in the runner's
methods); the others are its options."""


class Action(BaseModel):
    """A deploy, promote or rollback body: the service, and the options every action takes
    (`model/options.py: ActionOptions` but `wait`, a query parameter)."""

    model_config = ConfigDict(extra="forbid")

    service: Name
    expect: Name | None = None
    reason: Reason = ""

    def options(self, *, wait: bool) -> dict[str, Any]:
        """The keyword options of the runner's method: every field but the action's target
        (service, environment, revision), and `wait`."""
        return {**self.model_dump(exclude=_TARGET), "wait": wait}


class Deploy(Action):
    revision: Name
    env: Name
    force: bool = False


class Promote(Action):
    to_env: Name
    force: bool = False


class Rollback(Action):
    env: Name
    to: Name | None = None


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
    service: NameQuery,
    env: NameQuery,
    revision: OptionalNameQuery = None,
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
    return await runner.deploy(body.service, body.revision, body.env, **body.options(wait=wait))


@router.post("/promote", dependencies=WRITABLE)
async def promote(body: Promote, runner: RunnerDep, wait: Wait = False) -> HistoryEntry:
    return await runner.promote(body.service, body.to_env, **body.options(wait=wait))


@router.post("/rollback", dependencies=WRITABLE)
async def rollback(body: Rollback, runner: RunnerDep, wait: Wait = False) -> HistoryEntry:
    return await runner.rollback(body.service, body.env, **body.options(wait=wait))


class ServiceRecords(TypedDict):
    """Which of a service's records a listing holds, newest first: those of all its
    environments, or of `env`."""

    service: str
    env: str | None
    limit: int


async def service_records(
    service: NameQuery, env: OptionalNameQuery = None, limit: Limit = 100
) -> ServiceRecords:
    return ServiceRecords(service=service, env=env, limit=limit)


ServiceRecordsDep = Annotated[ServiceRecords, Depends(service_records)]


@router.get("/history")
async def history(runner: RunnerDep, records: ServiceRecordsDep) -> list[HistoryEntry]:
    return await runner.history(**records)


@router.get("/health-checks")
async def health_checks(runner: RunnerDep, records: ServiceRecordsDep) -> list[HealthCheck]:
    """Scheduled health checks of a service (or one environment), newest first."""
    return await runner.health_checks(**records)
