"""Executes one run: schedules its tasks as their needs succeed, within the run's job limit.

Scheduling is event-driven (the loop wakes only when a task finishes or the run is
cancelled). Each task runs its attempts in `process.run_attempt`; this module decides
statuses, retries, skips, and reports every change to the event feed and the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import os
import re
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shipdeck.engine.events import EventFeed
from shipdeck.engine.runs.capture import Captured, OutputKeeper
from shipdeck.engine.runs.lineage import LineageRecorder
from shipdeck.engine.runs.output import TaskOutput, lock_run_logs, params_path
from shipdeck.engine.runs.persist import Persister
from shipdeck.engine.runs.process import AttemptOutcome, run_attempt
from shipdeck.engine.runs.store import TaskRow
from shipdeck.engine.runs.task_env import task_environment
from shipdeck.model import (
    EventKind,
    ParamValue,
    PipelineSpec,
    Run,
    RunStatus,
    TaskEnvSpec,
    TaskRun,
    TaskSpec,
    TaskStatus,
)

_log = logging.getLogger(__name__)
CANCELLED = "cancelled"

TaskHook = Callable[[Run, TaskSpec], Awaitable[None]]
"""Called when a task succeeds (e.g. to register the model it `registers`). Raising fails the
task with the error's message as its reason."""


def param_env_name(name: str) -> str:
    return "SHIPDECK_PARAM_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def param_env_value(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def format_seconds(seconds: float) -> str:
    return f"{seconds:g}s"


@dataclass
class EngineServices:
    """What an executor needs from its engine."""

    root: Path
    logs_dir: Path
    feed: EventFeed
    persister: Persister
    hooks: list[TaskHook] = field(default_factory=list)
    kill_grace: float = 2.0
    spawner: Executor | None = None
    """Threads that fork/exec task processes off the event loop."""
    inherited_env: Callable[[], dict[bytes, bytes]] = field(
        default=lambda: task_environment(TaskEnvSpec())
    )
    """What a run's tasks inherit from the runner's environment (see engine/runs/task_env.py)."""
    keeper: OutputKeeper = field(default_factory=OutputKeeper)
    """Holds the tasks' output pipes and writes their logs (engine/runs/keeper.py)."""
    lineage: LineageRecorder | None = None
    """Records the run's code version and its tasks' input digests (None: not recorded)."""


class RunExecutor:
    def __init__(
        self,
        services: EngineServices,
        run: Run,
        pipeline: PipelineSpec,
        tasks: dict[str, TaskRun],
        to_run: list[str],
        gate: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._services = services
        self._gate = gate
        """Waits for the pipeline's concurrency slot (see engine/runs/admission.py)."""
        self.run = run
        self._pipeline = pipeline
        self._tasks = tasks
        self._order = {name: index for index, name in enumerate(tasks)}
        self._to_run = to_run
        self._pids: dict[str, int | None] = {}
        self._cancel = asyncio.Event()
        self._cancelled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._cancel_reason = CANCELLED
        self.finished = asyncio.Event()
        self._run_dir = services.logs_dir / str(run.id)
        self._inherited_env: dict[bytes, bytes] = {}
        self._run_env: dict[bytes, bytes] | None = None
        self._logs_lock: int | None = None
        """The run's log directory, locked while it runs (output.lock_run_logs)."""

    @property
    def run_id(self) -> str:
        return self.run.id

    def request_cancel(self, reason: str = CANCELLED) -> None:
        if not self._cancel.is_set():
            self._cancel_reason = reason
            self._cancel.set()
            self._cancelled.set_result(None)

    # State changes ----------------------------------------------------------------------

    def _set_run(self, **changes: object) -> None:
        self.run = self.run.model_copy(update=changes)
        self._services.persister.run(self.run)
        self._services.feed.publish(EventKind.RUN, self.run, run_id=self.run.id)

    def _set_task(self, name: str, **changes: object) -> None:
        before = self._tasks[name]
        task = before.model_copy(update=changes)
        self._tasks[name] = task
        self._services.persister.task(TaskRow(task, self._order[name], self._pids.get(name)))
        self._services.feed.publish(EventKind.TASK, task, run_id=self.run.id, task=name)
        if task.status.done and not before.status.finished:
            self._set_run(tasks_done=self.run.tasks_done + 1)

    # The run ----------------------------------------------------------------------------

    async def execute(self) -> Run:
        failure: str | None = None
        try:
            if await self._admitted():
                await self._execute()
        except Exception as error:  # a bug or a full disk must still finish the run visibly
            # The reason is on the tasks for the operator; the traceback is for debugging.
            _log.debug("shipdeck: run %s failed inside the engine", self.run.label, exc_info=True)
            failure = f"shipdeck error: {error}"
        finally:
            for name, task in self._tasks.items():
                if not task.status.finished:
                    self._set_task(
                        name,
                        status=TaskStatus.FAILED if failure else TaskStatus.CANCELLED,
                        reason=failure or self._cancel_reason,
                        finished_at=_now() if task.started_at else None,
                    )
            self._set_run(status=self._final_status(), finished_at=_now())
            if self._logs_lock is not None:
                os.close(self._logs_lock)
                self._logs_lock = None
            try:
                self._services.persister.flush()
            except sqlite3.Error as error:
                # Kept in memory and retried by the persister's timer; waiters go on.
                _log.warning("shipdeck: could not save run %s yet: %s", self.run.label, error)
                self._services.persister.retry_later()
            self.finished.set()
        return self.run

    async def _admitted(self) -> bool:
        """Wait, queued, for a slot; False when the run was cancelled before it got one."""
        if self._gate is None:
            return True
        turn = asyncio.ensure_future(self._gate())
        try:
            await asyncio.wait([turn, self._cancelled], return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not turn.done():
                turn.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await turn
        if self._cancel.is_set():
            return False
        turn.result()  # a store error while waiting fails the run visibly
        return True

    def _final_status(self) -> RunStatus:
        statuses = {task.status for task in self._tasks.values()}
        if self._cancel.is_set() and statuses != {TaskStatus.SUCCEEDED}:
            return RunStatus.CANCELLED
        if statuses <= {TaskStatus.SUCCEEDED}:
            return RunStatus.SUCCEEDED
        return RunStatus.FAILED

    async def _execute(self) -> None:
        if self._services.lineage is not None:
            await self._services.lineage.record_code(self.run.id)
        self._set_run(status=RunStatus.RUNNING, started_at=_now())
        self._run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._logs_lock = lock_run_logs(self._services.logs_dir, self.run.id)
        params_file = params_path(self._services.logs_dir, self.run.id)
        params_file.write_text(json.dumps(self.run.params, indent=2) + "\n")
        specs = self._pipeline.tasks
        to_run = set(self._to_run)
        blocked: dict[str, int] = {}
        dependents: dict[str, list[str]] = {name: [] for name in specs}
        ready: list[tuple[int, str]] = []
        for name in self._to_run:
            for need in specs[name].needs:
                dependents[need].append(name)
        for name in self._to_run:
            waiting = [
                n for n in specs[name].needs if self._tasks[n].status != TaskStatus.SUCCEEDED
            ]
            blocked[name] = len(waiting)
            failed = [n for n in waiting if n not in to_run]
            if failed:
                self._skip_downstream(self._skip_reason(failed[0]), dependents, name)
            elif not waiting:
                heapq.heappush(ready, (self._order[name], name))
        running: dict[asyncio.Task[bool], str] = {}
        try:
            while ready or running:
                while ready and len(running) < self.run.jobs and not self._cancel.is_set():
                    _, name = heapq.heappop(ready)
                    if self._tasks[name].status != TaskStatus.PENDING:
                        continue
                    job = asyncio.create_task(self._run_task(specs[name], params_file))
                    running[job] = name
                if not running:
                    break
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for job in done:
                    name = running.pop(job)
                    if job.result():
                        for child in dependents[name]:
                            blocked[child] -= 1
                            if (
                                blocked[child] == 0
                                and self._tasks[child].status == TaskStatus.PENDING
                            ):
                                heapq.heappush(ready, (self._order[child], child))
                    elif not self._cancel.is_set():
                        reason = self._skip_reason(name)
                        for child in dependents[name]:
                            self._skip_downstream(reason, dependents, child)
        finally:
            for job in running:
                job.cancel()
            if running:
                await asyncio.wait(running)

    def _skip_reason(self, name: str) -> str:
        task = self._tasks[name]
        if task.status == TaskStatus.SKIPPED and task.reason:
            return task.reason
        return f"skipped: {name} {task.status.value}"

    def _skip_downstream(self, reason: str, dependents: dict[str, list[str]], name: str) -> None:
        if self._tasks[name].status != TaskStatus.PENDING:
            return
        self._set_task(name, status=TaskStatus.SKIPPED, reason=reason)
        for child in dependents.get(name, []):
            self._skip_downstream(reason, dependents, child)

    # One task ---------------------------------------------------------------------------

    async def _run_task(self, spec: TaskSpec, params_file: Path) -> bool:
        output = TaskOutput(
            logs_dir=self._services.logs_dir,
            run_id=self.run.id,
            task=spec.name,
            feed=self._services.feed,
            persister=self._services.persister,
        )
        try:
            return await self._attempts(spec, params_file, output)
        except Exception as error:  # e.g. a full disk: this task fails, the run goes on
            _log.debug(
                "shipdeck: task %s of run %s failed inside the engine",
                spec.name,
                self.run.id,
                exc_info=True,
            )
            reason = f"shipdeck error: {error}"
            with contextlib.suppress(Exception):
                output.note(reason)
            self._finish(spec.name, TaskStatus.FAILED, reason, None)
            return False
        finally:
            output.close()

    async def _attempts(self, spec: TaskSpec, params_file: Path, output: TaskOutput) -> bool:
        name = spec.name
        total = spec.retries + 1
        cwd = self._services.root / spec.cwd if spec.cwd else self._services.root
        for attempt in range(1, total + 1):
            changes: dict[str, object] = {
                "status": TaskStatus.RUNNING,
                "attempts": attempt,
                "exit_code": None,
                "reason": None,
            }
            if attempt == 1:
                changes["started_at"] = _now()
            self._set_task(name, **changes)
            if attempt == 1 and not await self._inputs_recorded(spec, output):
                return False
            if total > 1:
                output.note(f"attempt {attempt}/{total}")
            outcome = await self._attempt(spec, attempt, cwd, params_file, output)
            self._pids[name] = None
            if outcome.succeeded:
                return await self._succeed(spec, output)
            reason = self._failure_reason(spec, outcome)
            output.note(reason)
            if outcome.cancelled or self._cancel.is_set():
                self._finish(name, TaskStatus.CANCELLED, self._cancel_reason, outcome.exit_code)
                return False
            if attempt < total:
                self._set_task(
                    name, status=TaskStatus.RETRYING, exit_code=outcome.exit_code, reason=reason
                )
                if spec.retry_delay > 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(spec.retry_delay):
                            await self._cancel.wait()
                if self._cancel.is_set():
                    self._finish(name, TaskStatus.CANCELLED, self._cancel_reason, outcome.exit_code)
                    return False
                continue
            self._finish(name, TaskStatus.FAILED, reason, outcome.exit_code)
        return False

    async def _inputs_recorded(self, spec: TaskSpec, output: TaskOutput) -> bool:
        """Digest the task's declared inputs before its first attempt; False, the task
        finished, when one cannot be read (no retry brings a file back) or on a cancel."""
        lineage = self._services.lineage
        if not spec.inputs or lineage is None:
            return True
        problem = await lineage.record_inputs(self.run.id, spec, output.note, self._cancelled)
        if self._cancel.is_set():
            self._finish(spec.name, TaskStatus.CANCELLED, self._cancel_reason, None)
            return False
        if problem is not None:
            output.note(problem)
            self._finish(spec.name, TaskStatus.FAILED, problem, None)
            return False
        return True

    async def _attempt(
        self, spec: TaskSpec, attempt: int, cwd: Path, params_file: Path, output: TaskOutput
    ) -> AttemptOutcome:
        if not os.path.isdir(cwd):  # noqa: PTH112, ASYNC240 - one stat, cheaper than a spawn
            return AttemptOutcome(exit_code=None, spawn_error=f"cwd not found: {cwd}")
        env = self._environment(spec, attempt, params_file, output.metrics_path)

        def spawned(pid: int) -> None:
            self._pids[spec.name] = pid
            self._services.persister.task(
                TaskRow(self._tasks[spec.name], self._order[spec.name], pid)
            )

        def capture(stdout: int, stderr: int) -> Captured:
            assert self._logs_lock is not None
            lock = os.dup(self._logs_lock)
            return self._services.keeper.attach(
                output.log_path, lock, stdout, stderr, output.follow
            )

        output.start_polling()
        try:
            return await run_attempt(
                spec.run,
                cwd=cwd,
                env=env,
                timeout=spec.timeout,
                capture=capture,
                cancel=self._cancelled,
                on_spawn=spawned,
                kill_grace=self._services.kill_grace,
                spawner=self._services.spawner,
            )
        finally:
            output.stop_polling()

    def _environment(
        self, spec: TaskSpec, attempt: int, params_file: Path, metrics_file: Path
    ) -> dict[bytes, bytes]:
        """The inherited environment (no credentials) < the task's env < SHIPDECK_* (which a
        task cannot override)."""
        if self._run_env is None:
            # Built once per run: filtering os.environ per spawn costs more than the spawn.
            run_env = {
                os.fsencode(param_env_name(key)): os.fsencode(param_env_value(value))
                for key, value in self.run.params.items()
            }
            run_env[b"SHIPDECK_RUN_ID"] = str(self.run.id).encode()
            run_env[b"SHIPDECK_PIPELINE"] = os.fsencode(self.run.pipeline)
            run_env[b"SHIPDECK_WORKSPACE"] = os.fsencode(self._services.root)
            run_env[b"SHIPDECK_PARAMS"] = os.fsencode(params_file)
            self._inherited_env = self._services.inherited_env()
            self._run_env = run_env
        env = self._inherited_env.copy()
        for key, value in spec.env.items():
            env[os.fsencode(key)] = os.fsencode(value)
        env.update(self._run_env)
        env[b"SHIPDECK_TASK"] = os.fsencode(spec.name)
        env[b"SHIPDECK_ATTEMPT"] = str(attempt).encode()
        env[b"SHIPDECK_METRICS"] = os.fsencode(metrics_file)
        return env

    def _failure_reason(self, spec: TaskSpec, outcome: AttemptOutcome) -> str:
        if outcome.cancelled:
            return self._cancel_reason
        if outcome.timed_out:
            return f"timed out after {format_seconds(spec.timeout or 0)}"
        if outcome.spawn_error:
            return outcome.spawn_error
        code = outcome.exit_code
        if code is not None and code < 0:
            return f"killed by signal {-code}"
        return f"exit {code}"

    async def _succeed(self, spec: TaskSpec, output: TaskOutput) -> bool:
        for hook in self._services.hooks:
            try:
                await hook(self.run, spec)
            except Exception as error:  # a hook's failure fails the task, not the engine
                reason = str(error) or type(error).__name__
                output.note(reason)
                self._finish(spec.name, TaskStatus.FAILED, reason, 0)
                return False
        self._finish(spec.name, TaskStatus.SUCCEEDED, None, 0)
        return True

    def _finish(self, name: str, status: TaskStatus, reason: str | None, code: int | None) -> None:
        self._set_task(name, status=status, reason=reason, exit_code=code, finished_at=_now())


def _now() -> datetime:
    return datetime.now(UTC)
