"""The in-process runner: the Runner protocol over an embedded Engine for one workspace."""

from __future__ import annotations

import getpass
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from shipdeck.engine import Engine
from shipdeck.engine.logsearch import prepare
from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import (
    ConfigData,
    EventKind,
    EventPage,
    FailureStreak,
    LogChunk,
    LogSearchPage,
    PipelineSpec,
    RerunMode,
    Run,
    RunDetail,
    RunPage,
    RunStatus,
    ScheduleAction,
    ScheduleList,
    WorkspaceSpec,
)
from shipdeck.model.run import parse_id
from shipdeck.runners.workspace_file import WorkspaceFile
from shipdeck.workspace import resolve_params

if TYPE_CHECKING:
    from shipdeck.engine.schedule_store import ScheduleStore
    from shipdeck.engine.scheduler import Scheduler
    from shipdeck.engine.schedules import ScheduleBook
    from shipdeck.runners.local_deploy import DeployingLocalRunner


FILE_LOOK_EVERY = 1.0
"""Seconds between looks at the workspace file while a client waits for events."""


def default_user() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


class LocalRunner:
    """Executes runs in this process. On close, tasks still running are killed and marked
    cancelled ("runner closed"), so nothing is left orphaned.

    It follows the workspace file: a changed file that loads is the configuration from the
    next request on; while the file does not load, reads keep the last good configuration
    and anything that would start a run or deploy with it is refused with the file's
    problems (see `WorkspaceFile`)."""

    def __init__(self, engine: Engine, *, user: str | None = None, name: str = "local") -> None:
        self.engine = engine
        self.user = user if user is not None else default_user()
        self._name = name
        self._file = WorkspaceFile(engine.workspace)
        self._schedule_store: ScheduleStore | None = None
        self._scheduler: Scheduler | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def workspace(self) -> WorkspaceSpec:
        return self.engine.workspace

    def _configured(self, *, acting: bool = False) -> None:
        """Bring the configuration in step with the workspace file before using it; `acting`
        (about to start something with it): refuse while the file does not load."""
        spec = self._file.refresh()
        if spec is not None:
            self._use(spec)
        if acting:
            self._file.check_loads()

    def _use(self, spec: WorkspaceSpec) -> None:
        """Work with `spec` from now on (runs in progress keep the pipeline they started with),
        and say so on the event feed: clients reload what the file declares."""
        self.engine.workspace = spec
        self.engine.feed.publish(EventKind.CONFIG, ConfigData(file=spec.file.name))

    def executing(self) -> list[str]:
        """The runs this runner executes now, queued or running: closing it cancels them."""
        return self.engine.executing

    async def pipelines(self) -> list[PipelineSpec]:
        self._configured()
        return list(self.engine.workspace.pipelines.values())

    async def start_run(
        self,
        pipeline: str,
        params: dict[str, str] | None = None,
        *,
        jobs: int | None = None,
        trigger: str = "cli",
    ) -> Run:
        self._configured(acting=True)
        spec = self.engine.pipeline(pipeline)
        resolved = resolve_params(spec, dict(params or {}))
        return self.engine.start_run(pipeline, resolved, jobs=jobs, trigger=trigger, user=self.user)

    async def rerun(
        self,
        run_id: str,
        mode: RerunMode = RerunMode.ALL,
        *,
        from_task: str | None = None,
        jobs: int | None = None,
        trigger: str = "cli",
    ) -> Run:
        self._configured(acting=True)
        return self.engine.rerun(
            run_id, mode, from_task=from_task, jobs=jobs, trigger=trigger, user=self.user
        )

    async def rerun_plan(
        self, run_id: str, mode: RerunMode = RerunMode.ALL, *, from_task: str | None = None
    ) -> list[str]:
        self._configured()
        return self.engine.rerun_plan(run_id, mode, from_task)

    async def cancel(self, run_id: str) -> Run:
        return await self.engine.cancel(run_id)

    async def runs(
        self,
        *,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        text: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[Run]:
        return self.engine.runs(
            pipeline=pipeline, status=status, text=text, limit=limit, before=before
        )

    async def runs_page(
        self,
        *,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        text: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> RunPage:
        runs, total = self.engine.runs_page(
            pipeline=pipeline, status=status, text=text, limit=limit, before=before
        )
        return RunPage(runs=runs, total=total)

    async def failures(self, *, limit: int = 20) -> list[FailureStreak]:
        return [
            FailureStreak(run=run, count=count) for run, count in self.engine.failure_streaks(limit)
        ]

    async def run(self, run_id: str) -> RunDetail:
        return self.engine.run_detail(run_id)

    async def resolve_run(self, ref: str) -> str:
        """`42`, `#42`, `last`, or `last:PIPELINE` (the newest run of that pipeline)."""
        text = ref.strip()
        if text == "last" or text.startswith("last:"):
            pipeline = text.removeprefix("last").removeprefix(":") or None
            newest = self.engine.latest_run_id(pipeline)
            if newest is None:
                if pipeline is not None:
                    # Recorded runs count even when the file no longer declares the pipeline
                    # (or never did: deploy:api); with none, an unknown name says so.
                    self._configured()
                    self.engine.pipeline(pipeline)
                where = f" of pipeline {pipeline!r}" if pipeline else ""
                raise NotFound(f"there are no runs{where} yet")
            return newest
        number = parse_id(text.removeprefix("#"), f"run reference {ref!r}")
        if number is None:
            raise InvalidInput(f"run reference {ref!r}: expected a run number, #N or 'last'")
        return self.engine.get_run(str(number)).id

    async def read_log(
        self, run_id: str, task: str, *, start: int = 0, limit: int | None = 1000
    ) -> LogChunk:
        return self.engine.read_log(run_id, task, start=start, limit=limit)

    async def search_log(
        self,
        run_id: str,
        task: str,
        pattern: str,
        *,
        regex: bool = False,
        ignore_case: bool | None = None,
        start: int = 0,
        end: int | None = None,
        limit: int = 10_000,
    ) -> LogSearchPage:
        search = prepare(pattern, regex=regex, ignore_case=ignore_case)
        return await self.engine.search_log(run_id, task, search, start=start, end=end, limit=limit)

    async def wait_events(self, after: int, *, wait: float = 15.0, limit: int = 5000) -> EventPage:
        """While a client waits, the workspace file is looked at (one stat) every
        FILE_LOOK_EVERY seconds: an edit that loads reaches it as a CONFIG event at once."""
        deadline = time.monotonic() + wait
        while True:
            self._configured()
            left = deadline - time.monotonic()
            step = max(0.0, min(left, FILE_LOOK_EVERY))
            page = await self.engine.wait_events(after, wait=step, limit=limit)
            if page.events or page.reset or left <= FILE_LOOK_EVERY:
                return page

    async def last_seq(self) -> int:
        return self.engine.last_seq()

    async def wait_run(self, run_id: str) -> Run:
        return await self.engine.wait_run(run_id)

    # Schedules ---------------------------------------------------------------------------

    def _schedule_book(self) -> ScheduleBook:
        from shipdeck.engine.schedule_store import ScheduleStore
        from shipdeck.engine.schedules import ScheduleBook

        if self._schedule_store is None:
            self._schedule_store = ScheduleStore(self.engine.store.path)
        clock = self._scheduler.clock if self._scheduler is not None else time.time
        return ScheduleBook(self._schedule_store, self.engine.workspace.state_dir, clock)

    async def schedules(self) -> ScheduleList:
        self._configured()
        return self._schedule_book().listing(self.engine.workspace)

    async def pause_schedule(self, name: str, *, reason: str = "") -> ScheduleAction:
        self._configured()
        book = self._schedule_book()
        action = book.pause(self.engine.workspace, name, user=self.user, reason=reason)
        self.engine.feed.publish(EventKind.SCHEDULE, action)
        return action

    async def resume_schedule(self, name: str, *, reason: str = "") -> ScheduleAction:
        self._configured()
        book = self._schedule_book()
        action = book.resume(self.engine.workspace, name, user=self.user, reason=reason)
        self.engine.feed.publish(EventKind.SCHEDULE, action)
        return action

    def start_scheduling(self, *, clock: Callable[[], float] | None = None) -> Scheduler:
        """Fire the workspace's schedules from this process (the daemon and `shipdeck
        serve` do; one-shot commands never). Only one process per workspace fires at a
        time: the others stand by (see Scheduler)."""
        from shipdeck.engine.scheduler import Scheduler

        if self._scheduler is None:
            self._schedule_book()
            assert self._schedule_store is not None
            self._scheduler = Scheduler(
                self.engine,
                self._schedule_store,
                self._scheduling_workspace,
                user=f"scheduler@{socket.gethostname()}",
                clock=clock or time.time,
            )
        return self._scheduler

    def _scheduling_workspace(self) -> WorkspaceSpec | None:
        """The configuration to fire with; None while the file does not load (nothing
        would start with it: see `_configured`)."""
        self._configured()
        return None if self._file.problems else self.engine.workspace

    @property
    def scheduling(self) -> bool:
        """True while this runner fires schedules and the workspace declares some: a
        daemon does not exit when idle then."""
        return self._scheduler is not None and self._scheduler.has_work()

    async def close(self) -> None:
        if self._scheduler is not None:
            await self._scheduler.stop()
        await self.engine.close("runner closed")
        if self._schedule_store is not None:
            self._schedule_store.close()
            self._schedule_store = None


async def open_local_runner(
    workspace: WorkspaceSpec,
    *,
    user: str | None = None,
    name: str = "local",
    clock: Callable[[], datetime] | None = None,
) -> DeployingLocalRunner:
    """An in-process runner for `workspace`, with models and deployments; recovers runs left
    behind by dead processes. `clock` stamps deploy actions and alias moves (tests pin it)."""
    from shipdeck.runners.local_deploy import DeployingLocalRunner

    return DeployingLocalRunner(Engine(workspace), user=user, name=name, clock=clock)
