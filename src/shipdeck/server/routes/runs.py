"""Runs: list, inspect, read logs, and the actions that start or stop them."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shipdeck.model import (
    RUN_LIMIT,
    FailureStreak,
    LogChunk,
    LogSearchPage,
    RerunMode,
    Run,
    RunDetail,
    RunFilter,
    RunPage,
    RunStatus,
)
from shipdeck.server.routes.deps import WRITABLE, RunnerDep
from shipdeck.server.routes.params import Limit, OptionalNameQuery
from shipdeck.server.sse import unless_stopped

router = APIRouter(prefix="/v1", tags=["runs"])

RunId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        description="The run's id as the runner gave it (the embedded engine's: its number)",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class StartRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline: Name
    params: dict[str, str] = Field(default_factory=dict)
    jobs: int | None = Field(default=None, ge=1, le=1024)
    trigger: str = Field(default="api", max_length=64)


class Rerun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: RerunMode = RerunMode.ALL
    from_task: Name | None = None
    jobs: int | None = Field(default=None, ge=1, le=1024)
    trigger: str = Field(default="api", max_length=64)


class ResolvedRun(BaseModel):
    run_id: str


Pipeline = Annotated[str | None, Query(max_length=200)]
Status = Annotated[RunStatus | None, Query()]
Text = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Words that must all match: `#12`, `key=value` (a param), or text in the"
        " run's number, pipeline, status, trigger, user, params, parent or a task's reason",
    ),
]
Before = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description="Only runs older than this run (its id)"),
]


def run_filter(
    pipeline: Pipeline = None,
    status: Status = None,
    text: Text = None,
    limit: Limit = RUN_LIMIT,
    before: Before = None,
) -> RunFilter:
    """The query parameters of a run listing."""
    return RunFilter(pipeline=pipeline, status=status, text=text, limit=limit, before=before)


RunFilterDep = Annotated[RunFilter, Depends(run_filter)]


@router.get("/runs")
async def list_runs(runner: RunnerDep, filters: RunFilterDep) -> list[Run]:
    return await runner.runs(**filters)


@router.get("/runs/page")
async def runs_page(runner: RunnerDep, filters: RunFilterDep) -> RunPage:
    """The runs of `GET /v1/runs` and how many match the filters in all (`total`)."""
    return await runner.runs_page(**filters)


@router.get("/runs/failures")
async def failures(runner: RunnerDep, limit: Limit = 20) -> list[FailureStreak]:
    """Failures no success followed, newest first: per pipeline (deploy runs: per
    environment) the newest failed or interrupted run and how many since the last success."""
    return await runner.failures(limit=limit)


@router.post("/runs", status_code=201, dependencies=WRITABLE)
async def start_run(body: StartRun, runner: RunnerDep) -> Run:
    return await runner.start_run(body.pipeline, body.params, jobs=body.jobs, trigger=body.trigger)


@router.get("/runs/resolve")
async def resolve_run(runner: RunnerDep, ref: Annotated[str, Query(max_length=64)]) -> ResolvedRun:
    return ResolvedRun(run_id=await runner.resolve_run(ref))


@router.get("/runs/{run_id}")
async def get_run(run_id: RunId, runner: RunnerDep) -> RunDetail:
    return await runner.run(run_id)


@router.get("/runs/{run_id}/wait")
async def wait_run(
    request: Request,
    run_id: RunId,
    runner: RunnerDep,
    timeout: Annotated[float, Query(ge=0, le=300)] = 30.0,  # noqa: ASYNC109
) -> Run:
    """The run once it has finished, or as it is after `timeout` seconds (clients poll again)."""
    # A runner that stops answers at once (the run as it is), so it need not wait for this.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            waiting = runner.wait_run(run_id)
            finished, run = await unless_stopped(waiting, request.app.state.stopping)
            if finished and run is not None:
                return run
    return (await runner.run(run_id)).run


@router.post("/runs/{run_id}/rerun", status_code=201, dependencies=WRITABLE)
async def rerun(run_id: RunId, body: Rerun, runner: RunnerDep) -> Run:
    return await runner.rerun(
        run_id, body.mode, from_task=body.from_task, jobs=body.jobs, trigger=body.trigger
    )


@router.get("/runs/{run_id}/rerun-plan")
async def rerun_plan(
    run_id: RunId,
    runner: RunnerDep,
    mode: RerunMode = RerunMode.ALL,
    from_task: OptionalNameQuery = None,
) -> list[str]:
    return await runner.rerun_plan(run_id, mode, from_task=from_task)


@router.post("/runs/{run_id}/cancel", dependencies=WRITABLE)
async def cancel(run_id: RunId, runner: RunnerDep) -> Run:
    return await runner.cancel(run_id)


@router.get("/runs/{run_id}/tasks/{task}/log", response_model=LogChunk)
async def read_log(
    run_id: RunId,
    task: Annotated[str, Path(min_length=1, max_length=200)],
    runner: RunnerDep,
    start: Annotated[int, Query(ge=-(10**9), le=10**9)] = 0,
    limit: Annotated[int, Query(ge=0, le=10_000)] = 1000,
) -> Response:
    """Lines [start, start+limit) of the task's log; a negative start counts from the end."""
    chunk = await runner.read_log(run_id, task, start=start, limit=limit)
    # Serialised here in one pass: FastAPI's dump, validate and encode of 10,000 lines took
    # several times longer than reading them.
    return Response(chunk.model_dump_json(), media_type="application/json")


@router.get("/runs/{run_id}/tasks/{task}/log/search", response_model=LogSearchPage)
async def search_log(
    run_id: RunId,
    task: Annotated[str, Path(min_length=1, max_length=200)],
    runner: RunnerDep,
    pattern: Annotated[str, Query(min_length=1, max_length=1000)],
    regex: bool = False,
    ignore_case: bool | None = None,
    start: Annotated[int, Query(ge=0, le=10**9)] = 0,
    end: Annotated[int | None, Query(ge=0, le=10**9)] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Response:
    """One page of the lines in [start, end) whose visible text matches `pattern` (literal, or
    a regular expression with `regex`; `ignore_case` unset is smart case). Search again from
    `next` until `done`. A bad pattern is a 422."""
    page = await runner.search_log(
        run_id,
        task,
        pattern,
        regex=regex,
        ignore_case=ignore_case,
        start=start,
        end=end,
        limit=limit,
    )
    return Response(page.model_dump_json(), media_type="application/json")
