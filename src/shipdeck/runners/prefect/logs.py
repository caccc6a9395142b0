"""A flow run's logs as shipdeck task logs: numbered lines, read from Prefect as they grow.

Prefect keeps log records (one message each, tracebacks many lines long) with a timestamp,
a level and the task run that wrote them, or none for the flow's own. shipdeck numbers lines:
each record becomes as many lines as its message has, in timestamp order, and a log's lines
are read once and kept (`LogStore`, the logs of a bounded number of runs): one request reads
every log of a run, and the next asks Prefect only for records from shortly before the newest
one kept (deduplicated by record id).

The flow's process ships its records in batches (every 2 s by default), so some land after
the run has ended. Its engine's last record of an attempt is the flow's own "Finished in state
..." (written once the state is final), and one process ships records in order: a run's logs
are complete once it is final and that record of its last attempt has landed, or, for a run
whose process died before writing it, `SETTLE` seconds after it ended.

Records Prefect's engine writes about the run (`Beginning flow run ...`, `Finished in state
...`) are on the `sys` stream, as shipdeck's own lines about a local task are; what the flow
printed or logged is on `out` (warnings and worse on `err`).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Unpack

from shipdeck.logtext import compile_search, visible
from shipdeck.model import SEARCH_LIMIT, LogLine, LogSearchOptions, LogStream
from shipdeck.runners.prefect.api import LogLine as Record
from shipdeck.runners.prefect.api import PrefectApi

SETTLE = 10.0
"""Seconds after a run or task ended before its log counts as complete (Prefect's log batches
are sent every 2 s; a loaded worker is later)."""
PAGE = 200
KEEP = 32
"""Runs whose logs are kept in memory (least recently read dropped first)."""

_LEVELS = {50: "CRITICAL", 40: "ERROR", 30: "WARNING"}


_ENGINE = re.compile(
    r"(Finished in state |Beginning (sub)?flow run |Created (task|subflow) run |View at "
    r"|Executing |Running on worker |Opening process|Process for flow run |Downloading flow"
    r" code|Received non-final state |Hook '.*' finished running)"
)
"""How Prefect's engine starts the records it writes about a run (info level)."""
CLOSING = "Finished in state "
"""The flow's own last record of an attempt."""


def record_lines(record: Record, first: int) -> list[LogLine]:
    """A record as numbered lines: its message split at line breaks, the first line prefixed
    with the level when it is a warning or worse; ERROR and above go to stderr, the engine's
    own records about the run to `sys`."""
    stream = LogStream.ERR if record.level >= 40 else LogStream.OUT
    if record.level < 30 and _ENGINE.match(record.message):
        stream = LogStream.SYS
    texts = record.message.splitlines() or [""]
    level = next((name for at, name in _LEVELS.items() if record.level >= at), None)
    if level is not None:
        texts[0] = f"{level}: {texts[0]}"
    return [
        LogLine(n=first + i, ts=record.timestamp, stream=stream, text=text)
        for i, text in enumerate(texts)
    ]


@dataclass
class TaskLog:
    """One log (a task's, or the flow's own) as read so far."""

    lines: list[LogLine] = field(default_factory=list)
    complete: bool = False


@dataclass(frozen=True)
class LogKey:
    run_id: str
    task_run_id: str | None
    """None: the flow's own records (those of no task)."""


@dataclass
class RunLogs:
    """Every log of one flow run as read so far: one request brings them all up to date."""

    logs: dict[str | None, TaskLog] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    newest: datetime | None = None
    complete: bool = False
    closings: int = 0
    """The flow's closing records read (one per attempt that ended normally)."""
    ended: datetime | None = None
    """When the run had ended when `complete` was decided (a retry ends it again later)."""


OVERLAP = timedelta(seconds=2)
"""Records are asked for from this long before the newest one kept (and deduplicated): the
worker's threads may ship a record a little older than one already sent."""


Added = Callable[[str, str | None, list[LogLine]], None]
"""Told of the lines a read added: (flow run id, task run id or None, lines)."""


class LogStore:
    """The logs of the runs read lately. Every line is added once, whoever's read brings it
    (a client's read, the poller's), and `on_added` is told: the event feed has them all."""

    def __init__(
        self,
        api: PrefectApi,
        *,
        keep: int = KEEP,
        settle: float = SETTLE,
        on_added: Added | None = None,
    ) -> None:
        self.api = api
        self.keep = keep
        self.settle = settle
        self.on_added = on_added
        self._runs: OrderedDict[str, RunLogs] = OrderedDict()

    def open_runs(self) -> list[str]:
        """The runs whose logs were read and may still grow."""
        return [run_id for run_id, logs in self._runs.items() if not logs.complete]

    def cached(self, key: LogKey) -> TaskLog | None:
        logs = self._runs.get(key.run_id)
        return logs.logs.get(key.task_run_id) if logs is not None else None

    def complete(self, run_id: str) -> bool:
        logs = self._runs.get(run_id)
        return logs is not None and logs.complete

    async def read(
        self, key: LogKey, ended: datetime | None, attempts: int = 1
    ) -> tuple[TaskLog, list[LogLine]]:
        """One log brought up to date, and the lines this read added to it. `ended` is when
        its run ended (None while it goes on), after `attempts` attempts."""
        added = await self.refresh(key.run_id, ended, attempts)
        log = self._runs[key.run_id].logs.setdefault(key.task_run_id, TaskLog())
        log.complete = self._runs[key.run_id].complete
        return log, added.get(key.task_run_id, [])

    async def refresh(
        self, run_id: str, ended: datetime | None, attempts: int = 1
    ) -> dict[str | None, list[LogLine]]:
        """Every log of the run brought up to date: the lines added, by task run id."""
        logs = self._runs.pop(run_id, None) or RunLogs()
        self._runs[run_id] = logs
        while len(self._runs) > self.keep:
            self._runs.popitem(last=False)
        if logs.complete and ended == logs.ended:
            return {}
        settled = ended is not None and time.time() - ended.timestamp() > self.settle
        added = await self._fetch(run_id, logs)
        closed = ended is not None and logs.closings >= max(attempts, 1)
        logs.complete, logs.ended = settled or closed, ended
        settled = logs.complete
        for log in logs.logs.values():
            log.complete = settled
        return added

    async def _fetch(self, run_id: str, logs: RunLogs) -> dict[str | None, list[LogLine]]:
        added: dict[str | None, list[LogLine]] = {}
        offset = 0
        since = logs.newest - OVERLAP if logs.newest is not None else None
        while True:
            page = await self.api.logs(run_id, since=since, offset=offset, limit=PAGE)
            fresh: dict[str | None, list[LogLine]] = {}
            for record in page:
                # The poll's own mark: what the live socket brought may have gaps before it.
                if logs.newest is None or record.timestamp > logs.newest:
                    logs.newest = record.timestamp
                if record.id not in logs.seen:
                    fresh.setdefault(record.task_run_id, []).extend(_append(logs, record))
            # Told before the next await: lines reach the feed in their numbers' order,
            # whichever read (this one, the live socket's) brings the next.
            for task_run_id, lines in fresh.items():
                added.setdefault(task_run_id, []).extend(lines)
                if self.on_added is not None:
                    self.on_added(run_id, task_run_id, lines)
            if len(page) < PAGE:
                return added
            offset += len(page)

    async def catch_up(self, run_id: str) -> None:
        """The new records of a run whose logs are read and not complete (whether they are
        is left to `refresh`, which knows when the run ended)."""
        logs = self._runs.get(run_id)
        if logs is not None and not logs.complete:
            await self._fetch(run_id, logs)

    def add_live(self, record: Record) -> None:
        """A record the server's live socket sent: added (and told) unless its run is not
        read, complete, or has it already. The poll still reads it (and drops it, by id)."""
        logs = self._runs.get(record.flow_run_id or "")
        if logs is None or logs.complete or record.id in logs.seen:
            return
        lines = _append(logs, record)
        if self.on_added is not None and record.flow_run_id is not None:
            self.on_added(record.flow_run_id, record.task_run_id, lines)


def _append(logs: RunLogs, record: Record) -> list[LogLine]:
    """A record not seen yet, as lines numbered after those of its log."""
    logs.seen.add(record.id)
    log = logs.logs.setdefault(record.task_run_id, TaskLog())
    lines = record_lines(record, len(log.lines))
    log.lines.extend(lines)
    if record.task_run_id is None and record.message.startswith(CLOSING):
        logs.closings += 1
    return lines


def window(lines: list[LogLine], start: int, limit: int | None) -> tuple[int, list[LogLine]]:
    """Lines [start, start+limit) (a negative start counts from the end) and the start used."""
    total = len(lines)
    begin = max(0, total + start) if start < 0 else min(start, total)
    stop = total if limit is None else min(total, begin + max(0, limit))
    return begin, lines[begin:stop]


def search(
    lines: list[LogLine], pattern: str, **options: Unpack[LogSearchOptions]
) -> tuple[list[int], int, bool]:
    """(matching line numbers, the next line to look at, done) over lines [start, end)."""
    compiled: re.Pattern[str] = compile_search(
        pattern, regex=options.get("regex", False), ignore_case=options.get("ignore_case")
    )
    total, end, limit = len(lines), options.get("end"), options.get("limit", SEARCH_LIMIT)
    begin = max(0, options.get("start", 0))
    stop = total if end is None else max(begin, min(end, total))
    found: list[int] = []
    at = begin
    while at < stop:
        if compiled.search(visible(lines[at].text)):
            found.append(at)
            if len(found) >= limit:
                return found, at + 1, at + 1 >= stop
        at += 1
    return found, stop, True


def now() -> datetime:
    return datetime.now(UTC)


def spans(lines: list[int]) -> list[int]:
    """Ascending line numbers as runs, flattened: `[first, stop, first, stop, ...]`."""
    found: list[int] = []
    for line in lines:
        if found and found[-1] == line:
            found[-1] = line + 1
        else:
            found += [line, line + 1]
    return found
