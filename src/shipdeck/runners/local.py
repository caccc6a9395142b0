"""The in-process runner: the Runner protocol over an embedded Engine for one workspace."""

from __future__ import annotations

import getpass
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from shipdeck.engine import Engine
from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import (
    ConfigData,
    EventKind,
    EventPage,
    FailureStreak,
    LogChunk,
    PipelineSpec,
    RerunMode,
    Run,
    RunDetail,
    RunPage,
    RunStatus,
    WorkspaceSpec,
)
from shipdeck.model.run import parse_id
from shipdeck.runners.workspace_file import WorkspaceFile
from shipdeck.workspace import resolve_params

if TYPE_CHECKING:
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

    def executing(self) -> list[int]:
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
        run_id: int,
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
        self, run_id: int, mode: RerunMode = RerunMode.ALL, *, from_task: str | None = None
    ) -> list[str]:
        self._configured()
        return self.engine.rerun_plan(run_id, mode, from_task)

    async def cancel(self, run_id: int) -> Run:
        return await self.engine.cancel(run_id)

    async def runs(
        self,
        *,
        pipeline: str | None = None,
        status: RunStatus | None = None,
        text: str | None = None,
        limit: int = 50,
        before: int | None = None,
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
        before: int | None = None,
    ) -> RunPage:
        runs, total = self.engine.runs_page(
            pipeline=pipeline, status=status, text=text, limit=limit, before=before
        )
        return RunPage(runs=runs, total=total)

    async def failures(self, *, limit: int = 20) -> list[FailureStreak]:
        return [
            FailureStreak(run=run, count=count) for run, count in self.engine.failure_streaks(limit)
        ]

    async def run(self, run_id: int) -> RunDetail:
        return self.engine.run_detail(run_id)

    async def resolve_run(self, ref: str) -> int:
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
        run_id = parse_id(text.removeprefix("#"), f"run reference {ref!r}")
        if run_id is None:
            raise InvalidInput(f"run reference {ref!r}: expected a run number, #N or 'last'")
        self.engine.get_run(run_id)
        return run_id

    async def read_log(
        self, run_id: int, task: str, *, start: int = 0, limit: int | None = 1000
    ) -> LogChunk:
        return self.engine.read_log(run_id, task, start=start, limit=limit)

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

    async def wait_run(self, run_id: int) -> Run:
        return await self.engine.wait_run(run_id)

    async def close(self) -> None:
        await self.engine.close("runner closed")


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
