"""The in-process runner: the Runner protocol over an embedded Engine for one workspace."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Unpack

from shipdeck import model as m
from shipdeck.engine import Engine
from shipdeck.engine.logsearch import prepare
from shipdeck.errors import InvalidInput
from shipdeck.model.capabilities import EVERYTHING, REGISTRY, Capabilities
from shipdeck.model.ids import run_label
from shipdeck.model.run import parse_id
from shipdeck.runners.acting_user import default_user
from shipdeck.runners.base import BaseRunner
from shipdeck.runners.workspace_file import WorkspaceFile
from shipdeck.workspace import resolve_params

if TYPE_CHECKING:
    from shipdeck.engine.monitors import Monitors
    from shipdeck.engine.notify import Notifier
    from shipdeck.engine.schedule_store import ScheduleStore
    from shipdeck.engine.scheduler import Scheduler
    from shipdeck.engine.schedules import ScheduleBook
    from shipdeck.runners.local_deploy import DeployingLocalRunner


FILE_LOOK_EVERY = 1.0
"""Seconds between looks at the workspace file while a client waits for events."""


class LocalRunner(BaseRunner):
    """Executes runs in this process. On close, tasks still running are killed and marked
    cancelled ("runner closed"), so nothing is left orphaned.

    It follows the workspace file: a changed file that loads is the configuration from the
    next request on; while the file does not load, reads keep the last good configuration
    and anything that would start a run or deploy with it is refused with the file's
    problems (see `WorkspaceFile`)."""

    deploys = False
    """True with the models-and-deployments half (DeployingLocalRunner)."""

    def __init__(
        self,
        engine: Engine,
        *,
        user: str | None = None,
        name: str = "local",
        read_only: bool = False,
    ) -> None:
        self.engine = engine
        self.read_only = read_only
        self.user = user if user is not None else default_user()
        self._name = name
        self._file = WorkspaceFile(engine.workspace)
        self._schedule_store: ScheduleStore | None = None
        self._scheduler: Scheduler | None = None
        self._monitors: Monitors | None = None
        self._notifier: Notifier | None = None

    async def capabilities(self) -> Capabilities:
        can = EVERYTHING if self.deploys else EVERYTHING - REGISTRY
        return Capabilities(kind="shipdeck", can=can, read_only=self.read_only)

    @property
    def workspace(self) -> m.WorkspaceSpec:
        return self.engine.workspace

    def _configured(self, *, acting: bool = False) -> None:
        """Bring the configuration in step with the workspace file before using it; `acting`
        (about to start something with it): refuse while the file does not load."""
        before = self._file.problems
        spec = self._file.refresh()
        if spec is not None:
            self._use(spec)
        elif self._file.problems != before:  # broken, fixed as it was, or broken otherwise
            data = m.ConfigData(file=self._file.spec.file.name, problems=self._file.problems)
            self.engine.feed.publish(m.EventKind.CONFIG, data)
        if acting:
            self._check_writable("start or change anything")
            self._file.check_loads()

    def _use(self, spec: m.WorkspaceSpec) -> None:
        """Work with `spec` from now on (runs in progress keep the pipeline they started with),
        and say so on the event feed: clients reload what the file declares."""
        self.engine.workspace = spec
        self.engine.feed.publish(m.EventKind.CONFIG, m.ConfigData(file=spec.file.name))

    def executing(self) -> list[str]:
        """The runs this runner executes now, queued or running: closing it cancels them."""
        return self.engine.executing

    async def pipelines(self) -> list[m.PipelineSpec]:
        self._configured()
        return list(self.engine.workspace.pipelines.values())

    async def start_run(
        self, pipeline: str, params: dict[str, str] | None = None, **launch: Unpack[m.Launch]
    ) -> m.Run:
        self._configured(acting=True)
        spec = self.engine.pipeline(pipeline)
        resolved = resolve_params(spec, dict(params or {}))
        return self.engine.start_run(pipeline, resolved, user=self.user, **launch)

    async def rerun(
        self, run_id: str, mode: m.RerunMode = m.RerunMode.ALL, **options: Unpack[m.RerunOptions]
    ) -> m.Run:
        self._configured(acting=True)
        return self.engine.rerun(run_id, mode, user=self.user, **options)

    async def rerun_plan(
        self, run_id: str, mode: m.RerunMode = m.RerunMode.ALL, *, from_task: str | None = None
    ) -> list[str]:
        self._configured()
        return self.engine.rerun_plan(run_id, mode, from_task)

    async def cancel(self, run_id: str) -> m.Run:
        self._check_writable(f"cancel {run_label(run_id)}")
        return await self.engine.cancel(run_id)

    async def runs(self, **filters: Unpack[m.RunFilter]) -> list[m.Run]:
        return self.engine.runs(**filters)

    async def runs_page(self, **filters: Unpack[m.RunFilter]) -> m.RunPage:
        runs, total = self.engine.runs_page(**filters)
        return m.RunPage(runs=runs, total=total)

    async def failures(self, *, limit: int = 20) -> list[m.FailureStreak]:
        return [
            m.FailureStreak(run=run, count=count)
            for run, count in self.engine.failure_streaks(limit)
        ]

    async def run(self, run_id: str) -> m.RunDetail:
        return self.engine.run_detail(run_id)

    async def check_pipeline(self, name: str) -> None:
        # Recorded runs count even when the file no longer declares the pipeline (or never
        # did: deploy:api); with none, an unknown name says so.
        self._configured()
        self.engine.pipeline(name)

    async def check_run(self, run_id: str) -> None:
        self.engine.get_run(run_id)

    def run_id_of(self, text: str, ref: str) -> str:
        number = parse_id(text, f"run reference {ref!r}")
        if number is None:
            raise InvalidInput(f"run reference {ref!r}: expected a run number, #N or 'last'")
        return str(number)

    async def read_log(
        self, run_id: str, task: str, *, start: int = 0, limit: int | None = 1000
    ) -> m.LogChunk:
        return self.engine.read_log(run_id, task, start=start, limit=limit)

    async def search_log(
        self, run_id: str, task: str, pattern: str, **options: Unpack[m.LogSearchOptions]
    ) -> m.LogSearchPage:
        regex, ignore_case = options.get("regex", False), options.get("ignore_case")
        search = prepare(pattern, regex=regex, ignore_case=ignore_case)
        start, end = options.get("start", 0), options.get("end")
        limit = options.get("limit", m.SEARCH_LIMIT)
        return await self.engine.search_log(run_id, task, search, start=start, end=end, limit=limit)

    async def wait_events(
        self, after: int, *, wait: float = 15.0, limit: int = 5000
    ) -> m.EventPage:
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

    async def wait_run(self, run_id: str) -> m.Run:
        return await self.engine.wait_run(run_id)

    # Schedules ---------------------------------------------------------------------------

    def _schedule_book(self) -> ScheduleBook:
        from shipdeck.engine.schedule_store import ScheduleStore
        from shipdeck.engine.schedules import ScheduleBook

        if self._schedule_store is None:
            self._schedule_store = ScheduleStore(self.engine.store.path)
        clock = self._scheduler.clock if self._scheduler is not None else time.time
        return ScheduleBook(self._schedule_store, self.engine.workspace.state_dir, clock)

    async def schedules(self) -> m.ScheduleList:
        self._configured()
        return self._schedule_book().listing(self.engine.workspace)

    async def pause_schedule(self, name: str, *, reason: str = "") -> m.ScheduleAction:
        return self._schedule_action("pause", name, reason)

    async def resume_schedule(self, name: str, *, reason: str = "") -> m.ScheduleAction:
        return self._schedule_action("resume", name, reason)

    def _schedule_action(
        self, verb: Literal["pause", "resume"], name: str, reason: str
    ) -> m.ScheduleAction:
        """Pause or resume a trigger (or a pipeline's), recorded with who and published."""
        self._check_writable(f"{verb} {name}")
        self._configured()
        book = self._schedule_book()
        act = book.pause if verb == "pause" else book.resume
        action = act(self.engine.workspace, name, user=self.user, reason=reason)
        self.engine.feed.publish(m.EventKind.SCHEDULE, action)
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
                monitors=self._monitor_book(),
            )
            self._start_notifying()
        return self._scheduler

    def _scheduling_workspace(self) -> m.WorkspaceSpec:
        """The configuration to fire with: the file's, or while it does not load the last one
        that did. A typo must not silently stop scheduled checks, health checks and automatic
        rollback; `config_problems()` (the event feed, /v1/health, the CLI and the TUI) says
        that the last good file is in use."""
        self._configured()
        return self.engine.workspace

    def config_problems(self) -> list[str]:
        """Why the workspace file does not load now ([] when it does): meanwhile the runner
        fires its schedules, monitor checks and health checks with the last good file."""
        self._configured()
        return list(self._file.problems)

    @property
    def scheduling(self) -> bool:
        """True while this runner fires schedules and the workspace declares some: a
        daemon does not exit when idle then."""
        return self._scheduler is not None and self._scheduler.has_work()

    async def close(self) -> None:
        if self._scheduler is not None:
            await self._scheduler.stop()
        await self.engine.close("runner closed")
        await self._close_monitors()
        if self._schedule_store is not None:
            self._schedule_store.close()
            self._schedule_store = None

    # Monitors and alerts ---------------------------------------------------------------------

    def _monitor_book(self) -> Monitors:
        from shipdeck.engine.monitor_store import MonitorStore
        from shipdeck.engine.monitors import Monitors

        if self._monitors is None:
            store = MonitorStore(self.engine.store.path)
            self._monitors = Monitors(self.engine, store, clock=self._monitor_clock)
        return self._monitors

    def _monitor_clock(self) -> float:
        return self._scheduler.clock() if self._scheduler is not None else time.time()

    def _start_notifying(self) -> None:
        """Send `[notify]` notifications for what this runner does (the daemon and `shipdeck
        serve` do, as they fire schedules)."""
        from shipdeck.engine.notify import Notifier
        from shipdeck.engine.task_env import task_environment

        if self._notifier is None:
            self._notifier = Notifier(
                self.engine.feed,
                lambda: self.engine.workspace.notify,
                self.engine.workspace.root,
                lambda: task_environment(self.engine.workspace.task_env),
            )
            self._notifier.start()

    async def monitors(self) -> list[m.MonitorInfo]:
        self._configured()
        book = self._monitor_book()
        await book.settle()
        latest = book.store.latest()
        running = {check.monitor for check in book.store.running()}
        counts = book.store.open_counts()
        timed = {
            item.monitor: item
            for item in self._schedule_book().listing(self.engine.workspace).schedules
            if item.monitor is not None
        }
        listed = []
        for name, spec in self.engine.workspace.monitors.items():
            last = latest.get(name)
            schedule = timed.get(name)
            metric = spec.thresholds[0].metric if spec.thresholds else None
            recent = [
                check.values[metric]
                for check in reversed(book.store.history(name, 30))
                if metric is not None and metric in check.values
            ]
            listed.append(
                m.MonitorInfo(
                    name=name,
                    description=spec.description,
                    rule=schedule.rule if schedule is not None else "manual",
                    thresholds=[threshold.text for threshold in spec.thresholds],
                    watches=dict(spec.watches),
                    state=None if last is None else last.verdict,
                    last_check=last,
                    running=name in running,
                    next_at=None if schedule is None else schedule.next_at,
                    paused=schedule is not None and schedule.paused,
                    open_alerts=counts.get(name, 0),
                    recent=recent,
                )
            )
        return listed

    async def monitor_history(self, name: str, *, limit: int = 100) -> list[m.MonitorCheck]:
        self._configured()
        book = self._monitor_book()
        await book.settle()
        return book.history(name, limit)

    async def check_monitor(self, name: str, *, wait: bool = True) -> m.MonitorCheck:
        self._configured(acting=True)
        book = self._monitor_book()
        check = book.start(name, trigger=f"checked by {self.user}", user=self.user)
        if not wait:
            return check
        return (await book.wait(check.id)).check

    async def alerts(
        self, *, open_only: bool = False, monitor: str | None = None, limit: int = 100
    ) -> list[m.Alert]:
        self._configured()
        book = self._monitor_book()
        await book.settle()
        return book.store.alerts(open_only=open_only, monitor=monitor, limit=limit)

    async def ack_alert(self, alert_id: int, *, note: str) -> m.Alert:
        return self._monitor_book().acknowledge(alert_id, user=self.user, note=note)

    async def _close_monitors(self) -> None:
        if self._notifier is not None:
            await self._notifier.close()
            self._notifier = None
        if self._monitors is not None:
            await self._monitors.close()
            self._monitors.store.close()
            self._monitors = None


async def open_local_runner(
    workspace: m.WorkspaceSpec,
    *,
    user: str | None = None,
    name: str = "local",
    clock: Callable[[], datetime] | None = None,
    read_only: bool = False,
) -> DeployingLocalRunner:
    """An in-process runner for `workspace`, with models and deployments; recovers runs left
    behind by dead processes. `clock` stamps deploy actions and alias moves (tests pin it);
    `read_only` refuses every change."""
    from shipdeck.runners.local_deploy import DeployingLocalRunner

    return DeployingLocalRunner(
        Engine(workspace), user=user, name=name, clock=clock, read_only=read_only
    )
