"""DelegatingRunner: a runner that answers as another does; subclasses change a few answers.

Used for wrappers such as the frozen-clock runners of the snapshot tests: they override the
methods whose answers they rewrite and inherit the forwarding of the rest.
"""

from __future__ import annotations

from shipdeck.model import (
    ActionPlan,
    AliasMove,
    Comparison,
    DeployAction,
    EnvironmentState,
    EventPage,
    FailureStreak,
    HistoryEntry,
    LogChunk,
    LogSearchPage,
    ModelSummary,
    ModelVersion,
    PipelineSpec,
    RerunMode,
    Run,
    RunDetail,
    RunPage,
    RunStatus,
    ScheduleAction,
    ScheduleList,
    ServiceSpec,
)
from shipdeck.model.capabilities import Capabilities
from shipdeck.runners.base import BaseRunner
from shipdeck.runners.protocol import Runner


class DelegatingRunner(BaseRunner):
    """Forwards every method of the Runner contract to `inner`."""

    def __init__(self, inner: Runner) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    async def capabilities(self) -> Capabilities:
        return await self.inner.capabilities()

    async def pipelines(self) -> list[PipelineSpec]:
        return await self.inner.pipelines()

    async def start_run(
        self,
        pipeline: str,
        params: dict[str, str] | None = None,
        *,
        jobs: int | None = None,
        trigger: str = "cli",
    ) -> Run:
        return await self.inner.start_run(pipeline, params, jobs=jobs, trigger=trigger)

    async def rerun(
        self,
        run_id: int,
        mode: RerunMode = RerunMode.ALL,
        *,
        from_task: str | None = None,
        jobs: int | None = None,
        trigger: str = "cli",
    ) -> Run:
        return await self.inner.rerun(run_id, mode, from_task=from_task, jobs=jobs, trigger=trigger)

    async def rerun_plan(
        self, run_id: int, mode: RerunMode = RerunMode.ALL, *, from_task: str | None = None
    ) -> list[str]:
        return await self.inner.rerun_plan(run_id, mode, from_task=from_task)

    async def cancel(self, run_id: int) -> Run:
        return await self.inner.cancel(run_id)

    async def runs(
        self,
        *,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        text: str | None = None,
        limit: int = 50,
        before: int | None = None,
    ) -> list[Run]:
        return await self.inner.runs(
            pipeline=pipeline, status=status, text=text, limit=limit, before=before
        )

    async def runs_page(
        self,
        *,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        text: str | None = None,
        limit: int = 50,
        before: int | None = None,
    ) -> RunPage:
        return await self.inner.runs_page(
            pipeline=pipeline, status=status, text=text, limit=limit, before=before
        )

    async def failures(self, *, limit: int = 20) -> list[FailureStreak]:
        return await self.inner.failures(limit=limit)

    async def run(self, run_id: int) -> RunDetail:
        return await self.inner.run(run_id)

    async def resolve_run(self, ref: str) -> int:
        return await self.inner.resolve_run(ref)

    async def read_log(
        self, run_id: int, task: str, *, start: int = 0, limit: int | None = 1000
    ) -> LogChunk:
        return await self.inner.read_log(run_id, task, start=start, limit=limit)

    async def search_log(
        self,
        run_id: int,
        task: str,
        pattern: str,
        *,
        regex: bool = False,
        ignore_case: bool | None = None,
        start: int = 0,
        end: int | None = None,
        limit: int = 10_000,
    ) -> LogSearchPage:
        return await self.inner.search_log(
            run_id,
            task,
            pattern,
            regex=regex,
            ignore_case=ignore_case,
            start=start,
            end=end,
            limit=limit,
        )

    async def wait_events(self, after: int, *, wait: float = 15.0, limit: int = 5000) -> EventPage:
        return await self.inner.wait_events(after, wait=wait, limit=limit)

    async def last_seq(self) -> int:
        return await self.inner.last_seq()

    async def wait_run(self, run_id: int) -> Run:
        return await self.inner.wait_run(run_id)

    async def close(self) -> None:
        await self.inner.close()

    async def models(self) -> list[ModelSummary]:
        return await self.inner.models()

    async def model_versions(self, model: str) -> list[ModelVersion]:
        return await self.inner.model_versions(model)

    async def alias(self, model: str, alias: str, version: str) -> AliasMove:
        return await self.inner.alias(model, alias, version)

    async def alias_moves(self, model: str | None = None, *, limit: int = 200) -> list[AliasMove]:
        return await self.inner.alias_moves(model, limit=limit)

    async def compare(self, refs: list[str]) -> Comparison:
        return await self.inner.compare(refs)

    async def services(self) -> list[ServiceSpec]:
        return await self.inner.services()

    async def deployments(self) -> list[EnvironmentState]:
        return await self.inner.deployments()

    async def plan(
        self, action: DeployAction, service: str, env: str, *, revision: str | None = None
    ) -> ActionPlan:
        return await self.inner.plan(action, service, env, revision=revision)

    async def deploy(
        self,
        service: str,
        revision: str,
        env: str,
        *,
        expect: str | None = None,
        force: bool = False,
        reason: str = "",
        wait: bool = True,
    ) -> HistoryEntry:
        return await self.inner.deploy(
            service, revision, env, expect=expect, force=force, reason=reason, wait=wait
        )

    async def promote(
        self,
        service: str,
        to_env: str,
        *,
        expect: str | None = None,
        force: bool = False,
        reason: str = "",
        wait: bool = True,
    ) -> HistoryEntry:
        return await self.inner.promote(
            service, to_env, expect=expect, force=force, reason=reason, wait=wait
        )

    async def rollback(
        self,
        service: str,
        env: str,
        *,
        to: str | None = None,
        expect: str | None = None,
        reason: str = "",
        wait: bool = True,
    ) -> HistoryEntry:
        return await self.inner.rollback(
            service, env, to=to, expect=expect, reason=reason, wait=wait
        )

    async def history(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HistoryEntry]:
        return await self.inner.history(service, env, limit=limit)

    async def schedules(self) -> ScheduleList:
        return await self.inner.schedules()

    async def pause_schedule(self, name: str, *, reason: str = "") -> ScheduleAction:
        return await self.inner.pause_schedule(name, reason=reason)

    async def resume_schedule(self, name: str, *, reason: str = "") -> ScheduleAction:
        return await self.inner.resume_schedule(name, reason=reason)
