"""The in-process runner: the Runner contract over the embedded engine of one workspace, its
deployments and what it does by itself (engine/runs, engine/deploy, engine/automation)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Unpack

from shipdeck import model as m
from shipdeck.engine import Engine
from shipdeck.engine.automation.autopilot import Autopilot
from shipdeck.engine.deploy.deployments import Deployments
from shipdeck.engine.deploy.models import ModelBook
from shipdeck.engine.runs.logsearch import prepare
from shipdeck.errors import InvalidInput
from shipdeck.model.capabilities import EVERYTHING, Capabilities
from shipdeck.model.compare import compare
from shipdeck.model.lineage import lineage_flags
from shipdeck.model.run import parse_id
from shipdeck.runners.acting_user import default_user
from shipdeck.runners.base import BaseRunner, compare_refs, version_ref
from shipdeck.runners.model_registries import ConfiguredRegistries
from shipdeck.runners.workspace_file import WorkspaceFile
from shipdeck.workspace import resolve_params

if TYPE_CHECKING:
    from shipdeck.engine.automation.scheduler import Scheduler


FILE_LOOK_EVERY = 1.0
"""Seconds between looks at the workspace file while a client waits for events."""


class LocalRunner(BaseRunner):
    """Executes runs in this process. On close, tasks still running are killed and marked
    cancelled ("runner closed"), so nothing is left orphaned.

    It follows the workspace file: a changed file that loads is the configuration from the
    next request on; while the file does not load, reads keep the last good configuration
    and anything that would start a run or deploy with it is refused with the file's
    problems (see `WorkspaceFile`)."""

    def __init__(
        self,
        engine: Engine,
        *,
        user: str | None = None,
        name: str = "local",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`clock` stamps deploy actions and alias moves (tests pin it)."""
        self.engine = engine
        self.user = user if user is not None else default_user()
        self._name = name
        self._file = WorkspaceFile(engine.workspace)
        registries = ConfiguredRegistries()
        if clock is None:
            self.deployer = Deployments(engine, user=self.user, registries=registries)
        else:
            self.deployer = Deployments(engine, user=self.user, clock=clock, registries=registries)
        self.model_book = ModelBook(self.deployer)
        self.autopilot = Autopilot(self.deployer, self._scheduling_workspace)

    async def capabilities(self) -> Capabilities:
        return Capabilities(kind="shipdeck", can=EVERYTHING)

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
            self._file.check_loads()

    def _use(self, spec: m.WorkspaceSpec) -> None:
        """Work with `spec` from now on (runs in progress keep the pipeline they started with),
        and say so on the event feed: clients reload what the file declares."""
        self.engine.workspace = spec
        self.deployer.use(spec)
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

    # Models and deployments ------------------------------------------------------------

    async def models(self) -> list[m.ModelSummary]:
        return self.deployer.registry.models()

    async def model_versions(self, model: str) -> list[m.ModelVersion]:
        return await self.model_book.versions(model)

    async def alias(self, model: str, alias: str, version: str) -> m.AliasMove:
        return self.model_book.move_alias(model, alias, version)

    async def alias_moves(self, model: str | None = None, *, limit: int = 200) -> list[m.AliasMove]:
        return self.deployer.registry.alias_moves(model)[:limit]

    async def compare(self, refs: list[str]) -> m.Comparison:
        compare_refs(refs)
        self._configured()
        subjects = [await self._subject(ref) for ref in refs]
        comparison = compare(subjects, self.deployer.workspace.direction)
        flags = lineage_flags([s.label for s in subjects], [s.lineage for s in subjects])
        return comparison.model_copy(update={"lineage": flags})

    async def _subject(self, ref: str) -> m.CompareSubject:
        parts = version_ref(ref)
        if parts is None:
            return await self.run_subject(ref)
        return self.model_book.subject(*parts)

    async def services(self) -> list[m.ServiceSpec]:
        self._configured()
        return list(self.deployer.workspace.services.values())

    async def deployments(self) -> list[m.EnvironmentState]:
        self._configured()
        return self.deployer.deployments()

    async def plan(
        self, action: m.DeployAction, service: str, env: str, *, revision: str | None = None
    ) -> m.ActionPlan:
        self._configured()
        if action == m.DeployAction.DEPLOY:
            if revision is None:
                raise InvalidInput("a deploy plan needs the revision to deploy")
            return await self.deployer.plan_deploy(service, revision, env)
        if action == m.DeployAction.PROMOTE:
            return await self.deployer.plan_promote(service, env)
        return await self.deployer.plan_rollback(service, env, revision)

    async def deploy(
        self, service: str, revision: str, env: str, **options: Unpack[m.DeployOptions]
    ) -> m.HistoryEntry:
        self._configured(acting=True)
        return await self.deployer.deploy(service, revision, env, **options)

    async def promote(
        self, service: str, to_env: str, **options: Unpack[m.DeployOptions]
    ) -> m.HistoryEntry:
        self._configured(acting=True)
        return await self.deployer.promote(service, to_env, **options)

    async def rollback(
        self, service: str, env: str, **options: Unpack[m.RollbackOptions]
    ) -> m.HistoryEntry:
        self._configured(acting=True)
        return await self.deployer.rollback(service, env, **options)

    async def history(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[m.HistoryEntry]:
        self._configured()
        return self.deployer.history(service, env, limit=limit)

    async def health_checks(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[m.HealthCheck]:
        self._configured()
        return self.deployer.health_checks(service, env, limit=limit)

    # Schedules, monitors and alerts ------------------------------------------------------

    async def schedules(self) -> m.ScheduleList:
        self._configured()
        return self.autopilot.schedule_book().listing(self.engine.workspace)

    async def pause_schedule(self, name: str, *, reason: str = "") -> m.ScheduleAction:
        self._configured()
        return self.autopilot.schedule_action("pause", name, user=self.user, reason=reason)

    async def resume_schedule(self, name: str, *, reason: str = "") -> m.ScheduleAction:
        self._configured()
        return self.autopilot.schedule_action("resume", name, user=self.user, reason=reason)

    def start_scheduling(self, *, clock: Callable[[], float] | None = None) -> Scheduler:
        """Fire the workspace's schedules, monitor checks, services' health checks and
        promotion policies from this process (the daemon and `shipdeck serve` do; one-shot
        commands never), and send its `[notify]` notifications."""
        return self.autopilot.start(clock=clock)

    def _scheduling_workspace(self) -> m.WorkspaceSpec:
        """The configuration to fire with: the file's, or while it does not load the last one
        that did; `config_problems()` (the event feed, /v1/health, the CLI and the TUI) says
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
        """True while this runner fires schedules, health checks or promotion policies and
        the workspace declares some: a daemon does not exit when idle then."""
        return self.autopilot.firing

    async def monitors(self) -> list[m.MonitorInfo]:
        self._configured()
        return await self.autopilot.monitor_infos()

    async def monitor_history(self, name: str, *, limit: int = 100) -> list[m.MonitorCheck]:
        self._configured()
        book = self.autopilot.monitors()
        await book.settle()
        return book.history(name, limit)

    async def check_monitor(self, name: str, *, wait: bool = True) -> m.MonitorCheck:
        self._configured(acting=True)
        book = self.autopilot.monitors()
        check = book.start(name, trigger=f"checked by {self.user}", user=self.user)
        if not wait:
            return check
        return (await book.wait(check.id)).check

    async def alerts(
        self, *, open_only: bool = False, monitor: str | None = None, limit: int = 100
    ) -> list[m.Alert]:
        self._configured()
        book = self.autopilot.monitors()
        await book.settle()
        return book.store.alerts(open_only=open_only, monitor=monitor, limit=limit)

    async def ack_alert(self, alert_id: int, *, note: str) -> m.Alert:
        return self.autopilot.monitors().acknowledge(alert_id, user=self.user, note=note)

    async def close(self) -> None:
        await self.autopilot.stop()
        await self.engine.close("runner closed")
        await self.autopilot.close()  # the automatic actions' runs ended: outcomes recorded
        await self.deployer.close()


async def open_local_runner(
    workspace: m.WorkspaceSpec,
    *,
    user: str | None = None,
    name: str = "local",
    clock: Callable[[], datetime] | None = None,
) -> LocalRunner:
    """An in-process runner for `workspace`; recovers runs left behind by dead processes.
    `clock` stamps deploy actions and alias moves (tests pin it). Read-only is the
    ReadOnlyRunner wrapper's, as for every runner kind."""
    return LocalRunner(Engine(workspace), user=user, name=name, clock=clock)
