"""The embedded engine: runs pipelines of one workspace and keeps their history.

One Engine per process and workspace. Several processes may share a workspace: each holds an
owner lock, executes the runs it started, and cancels them when another process asks through
the database. Runs whose owner died are marked interrupted by the next engine to open.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Unpack

from shipdeck.background import stop_task
from shipdeck.engine.database import StoreUnusable
from shipdeck.engine.declared import declared
from shipdeck.engine.events import EventFeed
from shipdeck.engine.runs.admission import Admission
from shipdeck.engine.runs.executor import EngineServices, RunExecutor, TaskHook
from shipdeck.engine.runs.lineage import LineageRecorder
from shipdeck.engine.runs.logfile import LogIndex, append_note
from shipdeck.engine.runs.logsearch import LogScanner, LogSearch
from shipdeck.engine.runs.output import task_log_path
from shipdeck.engine.runs.owners import OwnerLock, owner_alive, remove_dead_locks
from shipdeck.engine.runs.persist import Persister
from shipdeck.engine.runs.process import KILL_GRACE
from shipdeck.engine.runs.recovery import (
    KEEPER_WAIT,
    kill_orphaned_groups,
    logs_released,
    recover_output,
)
from shipdeck.engine.runs.reruns import rerun_plan
from shipdeck.engine.runs.store import Claim, Store, TaskRow
from shipdeck.engine.runs.task_env import task_environment
from shipdeck.errors import InvalidInput, NotFound, Refused, WorkspaceError
from shipdeck.model import (
    EventKind,
    EventPage,
    LogChunk,
    LogSearchPage,
    Metric,
    ParamValue,
    PipelineSpec,
    RerunMode,
    Run,
    RunCause,
    RunDetail,
    RunStatus,
    TaskRun,
    TaskStatus,
    WorkspaceSpec,
)
from shipdeck.model.ids import run_label
from shipdeck.model.lineage import Lineage
from shipdeck.model.options import TRIGGER, Launch, RunFilter
from shipdeck.state_dir import prepare_state_dir

CANCEL_POLL = 0.25
"""How often an owner looks for cancel requests from other processes, and others for results."""
CANCEL_WAIT = 15.0
"""How long cancel() from another process waits for the owner to confirm."""
INTERRUPTED_NOTE = "interrupted: the shipdeck process running this task stopped"
_LOG_INDEXES = 16
_UNSAVED = "0"
"""The id of a run (and its tasks) until the store gives it its own."""

_log = logging.getLogger(__name__)


class LaunchBy(Launch, total=False):
    """How the engine starts a run: the contract's options, who starts it, and for a
    scheduled run why (`cause`) and the claim written in the run's own transaction."""

    user: str
    cause: RunCause | None
    claim: Claim | None


class Engine:
    def __init__(self, workspace: WorkspaceSpec, *, kill_grace: float = KILL_GRACE) -> None:
        self.workspace = workspace
        state = workspace.state_dir
        self.logs_dir = state / "logs"
        self._owners_dir = state / "owners"
        self.store, self.owner, self.feed = _open_state(state)
        self.persister = Persister(self.store)
        self.on_task_succeeded: list[TaskHook] = []
        """Hooks run when a task succeeds (model registration plugs in here)."""
        self.lineage = LineageRecorder(workspace.root, state, self.store)
        self._services = EngineServices(
            root=workspace.root,
            logs_dir=self.logs_dir,
            feed=self.feed,
            persister=self.persister,
            hooks=self.on_task_succeeded,
            kill_grace=kill_grace,
            spawner=ThreadPoolExecutor(
                max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="shipdeck-spawn"
            ),
            inherited_env=lambda: task_environment(self.workspace.task_env),
            lineage=self.lineage,
        )
        self._executors: dict[str, RunExecutor] = {}
        self._jobs: dict[str, asyncio.Task[Run]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._indexes: OrderedDict[Path, LogIndex] = OrderedDict()
        self._scanners: OrderedDict[Path, LogScanner] = OrderedDict()
        self._closed = False
        self._admission = Admission(self.store, self.persister, self._interrupt_if_orphaned)
        self.recover()

    # Lifecycle --------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Mark runs whose owner process is gone as interrupted; returns their ids."""
        recovered = []
        for run_id, owner in self.store.active_runs():
            if self._interrupt_if_orphaned(run_id, owner):
                recovered.append(run_id)
        remove_dead_locks(self._owners_dir, keep=self.owner.name)
        return recovered

    def _interrupt_if_orphaned(self, run_id: str, owner: str | None) -> bool:
        """True, and the run marked interrupted, when `owner` (the process executing it) is
        gone: it executes nowhere any more (nor holds a concurrency slot)."""
        if owner == self.owner.name or owner_alive(self._owners_dir, owner):
            return False
        self._interrupt(run_id)
        return True

    def _interrupt(self, run_id: str) -> None:
        """Kill what still runs of the run's tasks, save what their durable output holds that
        the store does not, and mark the run interrupted."""
        run_marker = b"SHIPDECK_RUN_ID=" + run_id.encode()
        root_marker = b"SHIPDECK_WORKSPACE=" + os.fsencode(self.workspace.root)
        known = [
            (pid, [run_marker, b"SHIPDECK_TASK=" + task.encode(), root_marker])
            for task, pid in self.store.running_pids(run_id)
        ]
        kill_orphaned_groups(known, [run_marker, root_marker])
        with logs_released(self.logs_dir, run_id, time.monotonic() + KEEPER_WAIT):
            for task_run in self.store.tasks(run_id):
                if task_run.status.finished:
                    continue
                for metric in recover_output(self.store, self.logs_dir, run_id, task_run.name):
                    self.feed.publish(EventKind.METRIC, metric, run_id=run_id, task=task_run.name)
        for task in self.store.interrupt_run(run_id, "interrupted", time.time()):
            with contextlib.suppress(OSError):
                append_note(task_log_path(self.logs_dir, run_id, task), INTERRUPTED_NOTE)
        for task_run in self.store.tasks(run_id):
            if task_run.status == TaskStatus.INTERRUPTED:
                self.feed.publish(EventKind.TASK, task_run, run_id=run_id, task=task_run.name)
        run = self.store.get_run(run_id)
        if run is not None:
            self.feed.publish(EventKind.RUN, run, run_id=run_id)

    @property
    def busy(self) -> bool:
        """True while this engine executes a run (what a daemon must not exit during)."""
        return bool(self._jobs)

    @property
    def executing(self) -> list[str]:
        """The runs this engine executes now, queued or running, oldest first."""
        return sorted(self._jobs, key=int)

    async def close(self, reason: str = "runner closed") -> None:
        """Kill the tasks still running (so none is orphaned), mark them cancelled, release."""
        if self._closed:
            return
        self._closed = True
        for executor in self._executors.values():
            executor.request_cancel(reason)
        if self._jobs:
            await asyncio.wait(list(self._jobs.values()))
        await stop_task(self._watcher)
        if self._services.spawner is not None:
            self._services.spawner.shutdown(wait=True)
        await self._services.keeper.close()
        self.persister.flush()
        self.store.close()
        self.owner.release()

    # Starting runs ----------------------------------------------------------------------

    def pipeline(self, name: str) -> PipelineSpec:
        return declared(self.workspace.pipelines, name, "pipeline", str(self.workspace.file))

    def start_run(
        self, pipeline: str, params: dict[str, ParamValue], **launch: Unpack[LaunchBy]
    ) -> Run:
        """Create a run with already-resolved params and start executing it. A schedule
        passes its `cause` and a `claim` written in the run's own transaction (see Store)."""
        return self.start_pipeline(self.pipeline(pipeline), params, **launch)

    def start_pipeline(
        self, spec: PipelineSpec, params: dict[str, ParamValue], **launch: Unpack[LaunchBy]
    ) -> Run:
        """Run a pipeline the workspace does not declare (e.g. a service's deploy steps, a
        monitor's check), with an optional `cause` and `claim` as for `start_run`.

        Such runs cannot be rerun: their pipeline is not in the workspace to look up.
        """
        tasks = {name: TaskRun(run_id=_UNSAVED, name=name) for name in spec.tasks}
        return self._launch(spec, tasks, list(spec.tasks), params=params, **launch)

    def rerun_plan(
        self, run_id: str, mode: RerunMode = RerunMode.ALL, from_task: str | None = None
    ) -> list[str]:
        parent = self.get_run(run_id)
        previous = {task.name: task for task in self.store.tasks(run_id)}
        return rerun_plan(self.pipeline(parent.pipeline), previous, mode, from_task)

    def rerun(
        self,
        run_id: str,
        mode: RerunMode = RerunMode.ALL,
        *,
        from_task: str | None = None,
        **launch: Unpack[LaunchBy],
    ) -> Run:
        parent = self.get_run(run_id)
        if not parent.status.finished:
            raise Refused(
                f"run {run_label(run_id)} is still {parent.status.value}; wait for it or cancel it"
            )
        spec = self.pipeline(parent.pipeline)
        previous = {task.name: task for task in self.store.tasks(run_id)}
        plan = rerun_plan(spec, previous, mode, from_task)
        if not plan:
            raise Refused(f"run {run_label(run_id)} has nothing to rerun: every task succeeded")
        tasks: dict[str, TaskRun] = {}
        for name in spec.tasks:
            if name in plan:
                tasks[name] = TaskRun(run_id=_UNSAVED, name=name)
            else:
                earlier = previous[name]
                origin = earlier.reused_from or run_id
                tasks[name] = earlier.model_copy(update={"run_id": _UNSAVED, "reused_from": origin})
        jobs = launch.get("jobs")
        launch["jobs"] = jobs if jobs is not None else parent.jobs
        return self._launch(
            spec,
            tasks,
            plan,
            params=parent.params,
            parent=parent,
            mode=mode,
            from_task=from_task,
            **launch,
        )

    def _launch(
        self,
        spec: PipelineSpec,
        tasks: dict[str, TaskRun],
        to_run: list[str],
        *,
        params: dict[str, ParamValue],
        jobs: int | None = None,
        trigger: str = TRIGGER,
        user: str = "",
        parent: Run | None = None,
        mode: RerunMode | None = None,
        from_task: str | None = None,
        cause: RunCause | None = None,
        claim: Claim | None = None,
    ) -> Run:
        if self._closed:
            raise Refused("this runner is closed")
        if jobs is None:
            jobs = os.cpu_count() or 1
        if jobs < 1:
            raise InvalidInput(f"jobs must be at least 1, got {jobs}")
        reused = sum(1 for task in tasks.values() if task.status.done)
        run = Run(
            id=_UNSAVED,
            pipeline=spec.name,
            status=RunStatus.QUEUED,
            params=params,
            trigger=trigger,
            user=user,
            parent_id=parent.id if parent else None,
            rerun_mode=mode,
            rerun_from=from_task,
            jobs=jobs,
            created_at=datetime.now(UTC),
            tasks_total=len(tasks),
            tasks_done=reused,
            cause=cause,
        )
        # Each task records its needs: the run's own DAG, whatever the workspace says later.
        tasks = {
            name: task.model_copy(update={"needs": list(spec.tasks[name].needs)})
            for name, task in tasks.items()
        }
        rows = [TaskRow(task, position) for position, task in enumerate(tasks.values())]
        run_id = self.store.insert_run(run, self.owner.name, rows, claim=claim)
        run = run.model_copy(update={"id": run_id, "label": run_label(run_id)})
        tasks = {name: task.model_copy(update={"run_id": run_id}) for name, task in tasks.items()}
        gate = None
        if spec.concurrency is not None:
            limit = functools.partial(self._concurrency, spec)
            gate = functools.partial(self._admission.wait_turn, run, limit)
        executor = RunExecutor(self._services, run, spec, tasks, to_run, gate)
        self._executors[run_id] = executor
        self.feed.publish(EventKind.RUN, run, run_id=run_id)
        for task in tasks.values():
            self.feed.publish(EventKind.TASK, task, run_id=run_id, task=task.name)
        job = asyncio.get_running_loop().create_task(executor.execute())
        self._jobs[run_id] = job
        job.add_done_callback(lambda done: self._finished(run_id, done))
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch_cancel_requests())
        return run

    def _concurrency(self, launched: PipelineSpec) -> int | None:
        """The pipeline's limit as the workspace says now (the file may have changed since
        the run was queued), or as it was when the run started if it is no longer declared."""
        current = self.workspace.pipelines.get(launched.name)
        return (current or launched).concurrency

    def _finished(self, run_id: str, job: asyncio.Task[Run]) -> None:
        self._executors.pop(run_id, None)
        self._jobs.pop(run_id, None)
        self._admission.notify()
        if not job.cancelled() and job.exception() is not None:
            _log.error("shipdeck: run %s crashed", run_label(run_id), exc_info=job.exception())

    async def _watch_cancel_requests(self) -> None:
        while self._executors:
            await asyncio.sleep(CANCEL_POLL)
            try:
                requested = self.store.cancel_requests(self.owner.name)
            except Exception as error:  # a busy database must not stop the watch
                _log.warning("shipdeck: could not check for cancel requests: %s", error)
                continue
            for run_id in requested:
                executor = self._executors.get(run_id)
                if executor is not None:
                    executor.request_cancel()

    # Cancelling and waiting -------------------------------------------------------------

    async def cancel(self, run_id: str) -> Run:
        executor = self._executors.get(run_id)
        if executor is not None and not executor.finished.is_set():
            executor.request_cancel()
            await executor.finished.wait()
            return executor.run
        self.persister.flush()
        run = self.store.get_run(run_id)
        if run is None:
            raise NotFound(f"no run {run_label(run_id)}")
        if run.status.finished:
            raise Refused(f"run {run_label(run_id)} already {run.status.value}; nothing to cancel")
        recovered = self._recovered(run)
        if recovered.status.finished:
            return recovered  # its owner had died: now interrupted, its tasks killed
        self.store.request_cancel(run_id)
        return await self._await_other_owner(run_id, deadline=time.monotonic() + CANCEL_WAIT)

    async def wait_run(self, run_id: str) -> Run:
        run = self.get_run(run_id)
        job = self._jobs.get(run_id)
        if job is not None:
            await asyncio.wait([job])
            return self.get_run(run_id)
        if run.status.finished:
            return run
        return await self._await_other_owner(run_id, deadline=None)

    async def _await_other_owner(self, run_id: str, *, deadline: float | None) -> Run:
        """Poll a run owned by another process until it finishes (or the deadline passes).
        If its owner dies meanwhile, recover the run here."""
        while True:
            run = self.get_run(run_id)
            if run.status.finished:
                return run
            if deadline is not None and time.monotonic() >= deadline:
                return run
            await asyncio.sleep(CANCEL_POLL / 2)

    # Reading ----------------------------------------------------------------------------

    def get_run(self, run_id: str) -> Run:
        executor = self._executors.get(run_id)
        if executor is not None:
            return executor.run
        self.persister.flush()
        run = self.store.get_run(run_id)
        if run is None:
            raise NotFound(f"no run {run_label(run_id)}")
        return self._recovered(run)

    def _recovered(self, run: Run) -> Run:
        """The run, marked interrupted first if it is unfinished and its owner has died.

        Checked on every read, so a long-lived process (a daemon, the TUI) notices a dead
        `shipdeck run` in another terminal without waiting for the next engine to open.
        """
        if run.status.finished or run.id in self._executors:
            return run
        control = self.store.run_control(run.id)
        if not self._interrupt_if_orphaned(run.id, control[0] if control else None):
            return run
        return self.store.get_run(run.id) or run

    def runs(self, **filters: Unpack[RunFilter]) -> list[Run]:
        """Runs matching the filters, newest first (`Store.list_runs`)."""
        self._settle()
        return [self._recovered(run) for run in self.store.list_runs(**filters)]

    def runs_page(self, **filters: Unpack[RunFilter]) -> tuple[list[Run], int]:
        """`runs()` and how many runs match the filters in all."""
        self._settle()
        runs, total = self.store.runs_page(**filters)
        return [self._recovered(run) for run in runs], total

    def failure_streaks(self, limit: int) -> list[tuple[Run, int]]:
        """`Store.failure_streaks`: unresolved failures, newest first, with their counts."""
        self._settle()
        return self.store.failure_streaks(limit)

    def _settle(self) -> None:
        """Write what is pending and mark runs whose owner died interrupted, so a status
        filter or a count sees every run as it is (the active runs are few)."""
        self.persister.flush()
        for run_id, owner in self.store.active_runs():
            if run_id not in self._executors:
                self._interrupt_if_orphaned(run_id, owner)

    def latest_run_id(self, pipeline: str | None = None) -> str | None:
        self.persister.flush()
        return self.store.latest_run_id(pipeline)

    def run_detail(self, run_id: str) -> RunDetail:
        run = self.get_run(run_id)
        self.persister.flush()
        tasks = self.store.tasks(run_id)
        own = [task.name for task in tasks if task.reused_from is None]
        metrics = self.store.metrics(run_id, own)
        reused: dict[str, list[str]] = {}
        for task in tasks:
            if task.reused_from is not None:
                reused.setdefault(task.reused_from, []).append(task.name)
        for origin, names in reused.items():
            metrics.extend(
                metric.model_copy(update={"run_id": run_id})
                for metric in self.store.metrics(origin, names)
            )
        metrics.sort(key=_metric_time)
        lineage = self.lineage.lineage(run_id, tasks)
        return RunDetail(run=run, tasks=tasks, metrics=metrics, lineage=lineage)

    def run_lineage(self, run_id: str, task: str | None = None) -> Lineage:
        """The code and data of a run (of its kept tasks too), or of what its `task` built."""
        self.get_run(run_id)
        self.persister.flush()
        return self.lineage.lineage(run_id, self.store.tasks(run_id), task)

    def lineages(self, wanted: list[tuple[str, str | None]]) -> list[Lineage | None]:
        """`run_lineage` of many (run, task) pairs at once; None where nothing was recorded
        (a run that is gone, or that recorded no code nor inputs)."""
        self.persister.flush()
        return self.lineage.lineages(wanted)

    def _logged_task(self, run_id: str, task: str) -> TaskRun:
        """The task's row, once what the engine holds of it is written (NotFound: no such run
        or task)."""
        self.get_run(run_id)
        self.persister.flush()
        row = self.store.task(run_id, task)
        if row is None:
            raise NotFound(f"run {run_label(run_id)} has no task {task!r}")
        return row

    def read_log(
        self, run_id: str, task: str, *, start: int = 0, limit: int | None = 1000
    ) -> LogChunk:
        row = self._logged_task(run_id, task)
        # The status is read before the lines: "finished" then guarantees the lines are final.
        finished = row.status.finished
        origin = row.reused_from or run_id
        index = self._log_index(task_log_path(self.logs_dir, origin, task))
        first, lines = index.read(start, limit)
        return LogChunk(
            run_id=run_id, task=task, start=first, lines=lines, total=index.total, finished=finished
        )

    def _log_index(self, path: Path) -> LogIndex:
        index = self._indexes.pop(path, None) or LogIndex(path)
        self._indexes[path] = index
        while len(self._indexes) > _LOG_INDEXES:
            self._indexes.popitem(last=False)
        return index

    async def search_log(
        self,
        run_id: str,
        task: str,
        search: LogSearch,
        *,
        start: int = 0,
        end: int | None = None,
        limit: int = 10_000,
    ) -> LogSearchPage:
        """One page of a search over lines [start, end) of a task's log (see LogScanner). The
        file is scanned in a worker thread: the event loop goes on serving meanwhile."""
        row = self._logged_task(run_id, task)
        finished = row.status.finished
        path = task_log_path(self.logs_dir, row.reused_from or run_id, task)
        index = self._log_index(path)
        total = index.refresh()
        scanner = self._scanners.pop(path, None)
        if scanner is None or scanner.index is not index:
            scanner = LogScanner(index)
        self._scanners[path] = scanner
        while len(self._scanners) > _LOG_INDEXES:
            self._scanners.popitem(last=False)
        start = max(0, start)
        stop = total if end is None else max(start, min(end, total))
        found = await asyncio.to_thread(scanner.search, search, start, stop, limit=limit)
        return LogSearchPage(
            run_id=run_id,
            task=task,
            start=start,
            next=found.next,
            spans=found.spans,
            total=total,
            finished=finished,
            done=found.next >= stop,
        )

    async def wait_events(self, after: int, *, wait: float = 15.0, limit: int = 5000) -> EventPage:
        return await self.feed.wait(after, wait=wait, limit=limit)

    def last_seq(self) -> int:
        return self.feed.last_seq


def _open_state(state: Path) -> tuple[Store, OwnerLock, EventFeed]:
    """The store, this process's owner lock and the event feed, or one clear error line."""
    path = state / "shipdeck.db"
    try:
        prepare_state_dir(state)
        store = Store(path)
    except (OSError, sqlite3.Error, RuntimeError) as error:
        said = error.__cause__ if isinstance(error, StoreUnusable) else error
        raise WorkspaceError([f"cannot open the run history {path}: {said}"]) from None
    try:
        return store, OwnerLock(state / "owners"), EventFeed(store.reserve_seq_block)
    except StoreUnusable:  # its first write: a full disk, say, named as every read names it
        store.close()
        raise
    except (OSError, sqlite3.Error) as error:
        store.close()
        raise WorkspaceError([f"cannot use {state}: {error}"]) from None


def _metric_time(metric: Metric) -> datetime:
    return metric.ts
