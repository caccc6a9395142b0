"""Write-behind for run/task state and metrics: changes are coalesced and flushed together.

A 10,000-lines/s task or a 200-task DAG then costs a few SQLite transactions per second
instead of one per change. Only the newest state of each run and task is written. What a
crash loses here is not lost for good: each flush also saves how far into each task's durable
output its metrics go (OutputCursor), and crash recovery reads on from there.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from shipdeck.engine.runs.store import OutputCursor, Store, TaskRow
from shipdeck.model import Metric, Run

FLUSH_INTERVAL = 0.05

_log = logging.getLogger(__name__)


class Persister:
    def __init__(self, store: Store, *, interval: float = FLUSH_INTERVAL) -> None:
        self._store = store
        self._interval = interval
        self._runs: dict[str, Run] = {}
        self._tasks: dict[tuple[str, str], TaskRow] = {}
        self._metrics: list[Metric] = []
        self._outputs: dict[tuple[str, str], OutputCursor] = {}
        self._scheduled: asyncio.TimerHandle | None = None

    def run(self, run: Run) -> None:
        self._runs[run.id] = run
        self._schedule()

    def task(self, row: TaskRow) -> None:
        self._tasks[(row.task.run_id, row.task.name)] = row
        self._schedule()

    def metric(self, metric: Metric) -> None:
        self._metrics.append(metric)
        self._schedule()

    def output(self, cursor: OutputCursor) -> None:
        self._outputs[(cursor.run_id, cursor.task)] = cursor
        self._schedule()

    def retry_later(self) -> None:
        self._schedule()

    def _schedule(self) -> None:
        if self._scheduled is None:
            self._scheduled = asyncio.get_running_loop().call_later(self._interval, self._timed)

    def _timed(self) -> None:
        self._scheduled = None
        try:
            self.flush()
        except sqlite3.Error as error:
            # Another process held the database too long: keep the changes, try again soon.
            _log.warning("shipdeck: deferring a database write: %s", error)
            self._schedule()

    def flush(self) -> None:
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if not (self._runs or self._tasks or self._metrics or self._outputs):
            return
        runs, tasks, metrics, outputs = self._runs, self._tasks, self._metrics, self._outputs
        self._store.write(runs.values(), tasks.values(), metrics, outputs.values())
        self._runs, self._tasks, self._metrics, self._outputs = {}, {}, [], {}
