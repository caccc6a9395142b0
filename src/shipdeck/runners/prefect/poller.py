"""Watching a Prefect server for changes: the flow runs that move, the task runs inside them,
and the lines of the logs someone is reading, published as shipdeck events.

Prefect's REST API has no change feed shipdeck could resume from, so every POLL_INTERVAL
seconds one tick asks for the flow runs that are not final (and those that ended since the
last tick, and any that left the active set otherwise), the task runs of the runs it watches,
and the new log records of the runs that run (or ended less than SETTLE s ago), and publishes
what differs from the previous tick. A
tick that fails (server unreachable) is reported to every waiting client; the first tick that
works again tells them to refetch (`Feed.lost_track`), since changes in between were missed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shipdeck.background import stop_task
from shipdeck.errors import ShipdeckError
from shipdeck.model import Run, TaskRun
from shipdeck.model.events import EventKind
from shipdeck.runners.prefect import states
from shipdeck.runners.prefect.api import FlowRun, PrefectApi
from shipdeck.runners.prefect.api import TaskRun as PrefectTaskRun
from shipdeck.runners.prefect.feed import Feed
from shipdeck.runners.prefect.logs import SETTLE

POLL_INTERVAL = 1.0
"""Seconds between ticks: state changes reach a client within about this (plus a request)."""
IDLE_STOP = 60.0
"""Seconds without a client asking for events after which polling stops (until asked again)."""


@dataclass
class Hooks:
    """What the poller needs from the runner: mapping Prefect's objects, and reading logs."""

    run: Callable[[list[FlowRun]], Awaitable[list[Run]]]
    task: Callable[[str, PrefectTaskRun], TaskRun]
    logs: Callable[[dict[str, tuple[datetime | None, int]]], Awaitable[None]]
    """Bring the logs of these runs up to date (run id -> when it ended, None if running,
    and its attempts); the log store publishes the lines added."""
    landed: Callable[[FlowRun], Awaitable[bool]]
    """Whether the log records of a run that ended have all landed (read, and published)."""


class Poller:
    def __init__(self, api: PrefectApi, feed: Feed, hooks: Hooks, interval: float) -> None:
        self.api, self.feed, self.hooks, self.interval = api, feed, hooks, interval
        self._runs: dict[str, tuple[object, ...]] = {}
        self._tasks: dict[str, tuple[object, ...]] = {}
        self._ended: dict[str, tuple[float, datetime, int]] = {}
        """Runs that ended, and when this poller saw it: watched SETTLE s more (late tasks)."""
        self._held: set[str] = set()
        """Runs that ended but whose log records have not all landed: their end is told
        after their lines (as a local run's), once they have."""
        self._told: dict[str, float] = {}
        """Runs whose state the runner published itself (a cancel) during the current tick,
        and when (monotonic)."""
        self._since: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self.error: ShipdeckError | None = None
        self._asked = time.monotonic()
        self._ticked = asyncio.Event()

    def told(self, run_id: str) -> None:
        """The runner published this run's state itself: a tick that began reading before
        then must not publish what it read (a running run after its cancelling). A tick
        that began after reads what the runner's change left (it was made before)."""
        self._told[run_id] = time.monotonic()

    def ensure_running(self) -> None:
        self._asked = time.monotonic()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def first_tick(self) -> None:
        """Wait for one tick (the baseline states every change is measured from)."""
        self.ensure_running()
        await self._ticked.wait()

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _loop(self) -> None:
        while time.monotonic() - self._asked < IDLE_STOP:
            try:
                await self.tick()
            except ShipdeckError as error:
                if self.error is None:
                    self._since = None  # look at everything again once back
                self.error = error
            else:
                if self.error is not None:
                    self.error = None
                    self.feed.lost_track()
            self._ticked.set()
            await asyncio.sleep(self.interval)

    async def tick(self) -> None:
        started = datetime.now(UTC)
        reading = time.monotonic()
        baseline = self._since is None
        active = await self.api.flow_runs(state_types=list(states.ACTIVE), limit=200)
        seen = {run.id for run in active}
        runs = list(active)
        if self._since is not None:
            ended = await self.api.flow_runs(ended_after=self._since - timedelta(seconds=5))
            runs += [run for run in ended if run.id not in seen]
            seen |= {run.id for run in ended}
        gone = [
            run_id
            for run_id, key in self._runs.items()
            if run_id not in seen and key[0] not in states.FINAL
        ]
        runs += await self.api.flow_runs_by_id(sorted(set(gone) | (self._held - seen)))
        self._held.clear()
        for run_id in [run_id for run_id in self._runs if run_id not in seen]:
            del self._runs[run_id]  # final and quiet: the next change brings it back
        changed = [run for run in runs if self._runs.get(run.id) != _run_key(run)]
        if not baseline:
            for run in changed:
                if run.state_type in states.FINAL and not await self.hooks.landed(run):
                    self._held.add(run.id)
            changed = [run for run in changed if run.id not in self._held]
        for run in runs:
            if run.id in self._held:
                continue
            self._runs[run.id] = _run_key(run)
            if run.state_type in states.FINAL:
                seen_end = (time.monotonic(), run.end_time or started, run.run_count)
                self._ended.setdefault(run.id, seen_end)
            else:
                self._ended.pop(run.id, None)
        # A run's start before its tasks, its end after them (and after its log lines).
        ending = [run for run in changed if run.state_type in states.FINAL]
        await self._publish([run for run in changed if run not in ending], baseline, reading)
        watched = [run.id for run in active] + [run.id for run in ending]
        await self._tick_tasks(watched + sorted(self._held), baseline)
        await self._publish(ending, baseline, reading)
        logging: dict[str, tuple[datetime | None, int]] = {
            run.id: (None, run.run_count) for run in runs if run.state_type in states.LOGGING
        }
        logging.update({run_id: (end, count) for run_id, (_, end, count) in self._ended.items()})
        await self.hooks.logs(logging)
        self._since = started
        now = time.monotonic()
        for run_id, (at, _, _) in list(self._ended.items()):
            if now - at > SETTLE:
                del self._ended[run_id]
        # Every later tick reads after these were told: none of them can be older.
        self._told.clear()

    async def _publish(self, runs: list[FlowRun], baseline: bool, reading: float) -> None:
        if runs and not baseline:
            for mapped in await self.hooks.run(runs):
                # The one check, next to the publish with no await between: a run the
                # runner told after this tick began reading (while it read, mapped, or
                # waited for logs or tasks) may have been read older than that. The next
                # tick looks at the run again and publishes what is new.
                if self._told.get(mapped.id, -1.0) >= reading:
                    self._runs.pop(mapped.id, None)
                    self._ended.pop(mapped.id, None)
                    continue
                self.feed.publish(EventKind.RUN, mapped, run_id=mapped.id)

    async def _tick_tasks(self, active: list[str], baseline: bool) -> None:
        watched = list(dict.fromkeys([*active, *self._ended]))
        if not watched:
            return
        offset = 0
        kept = set(watched)
        for task_id in [t for t, key in self._tasks.items() if key[0] not in kept]:
            del self._tasks[task_id]
        while True:
            page = await self.api.task_runs_of(watched, offset=offset, limit=200)
            for task_run in page:
                key = (
                    task_run.flow_run_id,
                    task_run.state_type,
                    task_run.state_name,
                    task_run.run_count,
                )
                if self._tasks.get(task_run.id) == key:
                    continue
                self._tasks[task_run.id] = key
                if not task_run.flow_run_id:
                    continue
                mapped = self.hooks.task(task_run.flow_run_id, task_run)
                if not baseline:
                    self.feed.publish(
                        EventKind.TASK, mapped, run_id=task_run.flow_run_id, task=mapped.name
                    )
            if len(page) < 200:
                return
            offset += len(page)


def _run_key(run: FlowRun) -> tuple[object, ...]:
    return (run.state_type, run.state_name, run.run_count, run.end_time)
