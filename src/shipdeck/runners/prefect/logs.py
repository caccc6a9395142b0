"""A flow run's logs as shipdeck task logs: numbered lines, read from Prefect as they grow.

Prefect keeps log records (one message each, tracebacks many lines long) with a timestamp,
a level and the task run that wrote them, or none for the flow's own. shipdeck numbers lines:
each record becomes as many lines as its message has, in timestamp order, and a log's lines
are read once and kept (`LogStore`, a bounded number of logs): the next read asks Prefect only
for records at or after the newest one kept (deduplicated by record id).

The flow's process ships its records in batches (every 2 s by default), so some land after
the run has ended: a log counts as finished only once its run or task is final and
`SETTLE` seconds have passed since it ended.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shipdeck.logtext import compile_search, visible
from shipdeck.model import LogLine, LogStream
from shipdeck.runners.prefect.api import LogLine as Record
from shipdeck.runners.prefect.api import PrefectApi

SETTLE = 10.0
"""Seconds after a run or task ended before its log counts as complete (Prefect's log batches
are sent every 2 s; a loaded worker is later)."""
PAGE = 200
KEEP = 32
"""Logs kept in memory (least recently read dropped first)."""

_LEVELS = {50: "CRITICAL", 40: "ERROR", 30: "WARNING"}


def record_lines(record: Record, first: int) -> list[LogLine]:
    """A record as numbered lines: its message split at line breaks, the first line prefixed
    with the level when it is a warning or worse; ERROR and above go to stderr."""
    stream = LogStream.ERR if record.level >= 40 else LogStream.OUT
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
    """One log as read so far."""

    lines: list[LogLine] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    newest: datetime | None = None
    complete: bool = False


@dataclass(frozen=True)
class LogKey:
    run_id: str
    task_run_id: str | None
    """None: the flow's own records (those of no task)."""


class LogStore:
    def __init__(self, api: PrefectApi, *, keep: int = KEEP, settle: float = SETTLE) -> None:
        self.api = api
        self.keep = keep
        self.settle = settle
        self._logs: OrderedDict[LogKey, TaskLog] = OrderedDict()

    def open_logs(self) -> list[LogKey]:
        """The logs read so far that may still grow (the event poller follows these)."""
        return [key for key, log in self._logs.items() if not log.complete]

    def cached(self, key: LogKey) -> TaskLog | None:
        return self._logs.get(key)

    async def read(self, key: LogKey, ended: datetime | None) -> tuple[TaskLog, list[LogLine]]:
        """The log brought up to date, and the lines this read added. `ended` is when its run
        or task ended (None while it goes on)."""
        log = self._logs.pop(key, None) or TaskLog()
        self._logs[key] = log
        while len(self._logs) > self.keep:
            self._logs.popitem(last=False)
        if log.complete:
            return log, []
        settled = ended is not None and time.time() - ended.timestamp() > self.settle
        added = await self._fetch(key, log)
        log.complete = settled
        return log, added

    async def _fetch(self, key: LogKey, log: TaskLog) -> list[LogLine]:
        added: list[LogLine] = []
        offset = 0
        since = log.newest
        while True:
            page = await self.api.logs(
                key.run_id,
                task_run_id=key.task_run_id,
                flow_only=key.task_run_id is None,
                since=since,
                offset=offset,
                limit=PAGE,
            )
            for record in page:
                if record.id in log.seen:
                    continue
                log.seen.add(record.id)
                lines = record_lines(record, len(log.lines))
                log.lines.extend(lines)
                added.extend(lines)
                if log.newest is None or record.timestamp > log.newest:
                    log.newest = record.timestamp
            if len(page) < PAGE:
                return added
            offset += len(page)


def window(lines: list[LogLine], start: int, limit: int | None) -> tuple[int, list[LogLine]]:
    """Lines [start, start+limit) (a negative start counts from the end) and the start used."""
    total = len(lines)
    begin = max(0, total + start) if start < 0 else min(start, total)
    stop = total if limit is None else min(total, begin + max(0, limit))
    return begin, lines[begin:stop]


def search(
    lines: list[LogLine],
    pattern: str,
    *,
    regex: bool,
    ignore_case: bool | None,
    start: int,
    end: int | None,
    limit: int,
) -> tuple[list[int], int, bool]:
    """(matching line numbers, the next line to look at, done) over lines [start, end)."""
    compiled: re.Pattern[str] = compile_search(pattern, regex=regex, ignore_case=ignore_case)
    total = len(lines)
    begin = max(0, start)
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
