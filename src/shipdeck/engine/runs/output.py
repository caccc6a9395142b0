"""Where one task's output goes: its durable log, the event feed, and its metrics."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from shipdeck.engine.events import EventFeed
from shipdeck.engine.runs.logfile import PREFIX, LogTail, LogWriter, line_prefix
from shipdeck.engine.runs.metrics import (
    METRIC_PREFIX,
    BadMetric,
    MetricsFileTail,
    Reported,
    parse_metric_json,
    parse_metric_line,
)
from shipdeck.engine.runs.persist import Persister
from shipdeck.engine.runs.store import OutputCursor
from shipdeck.model import EventKind, LogData, LogStream, Metric
from shipdeck.model.events import trusted

METRICS_POLL = 0.25
"""How often $SHIPDECK_METRICS is read while its task runs."""


def params_path(logs_dir: Path, run_id: str) -> Path:
    """The run's params as JSON ($SHIPDECK_PARAMS), written before any of its tasks starts."""
    return logs_dir / str(run_id) / "params.json"


def lock_run_logs(logs_dir: Path, run_id: str) -> int:
    """The run's log directory, opened and flock'd. The output keeper holds a copy for each
    attempt, so the lock is free only once the engine that ran the run has let go of it and
    the output of every attempt has ended: crash recovery waits for that before it reads."""
    fd = os.open(logs_dir / str(run_id), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    # Held already only by a keeper of an older history's run with this number (its store
    # deleted, its logs kept): recovery would then wait for it a little, nothing more.
    with contextlib.suppress(BlockingIOError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def task_log_path(logs_dir: Path, run_id: str, task: str) -> Path:
    return logs_dir / str(run_id) / f"{_file_name(task)}.log"


def task_metrics_path(logs_dir: Path, run_id: str, task: str) -> Path:
    return logs_dir / str(run_id) / f"{_file_name(task)}.metrics.jsonl"


def _file_name(task: str) -> str:
    return task.replace("%", "%25").replace("/", "%2F").replace("\0", "%00")


class TaskOutput:
    """Follows one task's durable log: publishes its lines as they are appended (by the output
    keeper, or by `note`), records the metrics in them and in $SHIPDECK_METRICS, and tells the
    persister how far into both its metrics go."""

    def __init__(
        self, *, logs_dir: Path, run_id: str, task: str, feed: EventFeed, persister: Persister
    ) -> None:
        self.run_id = run_id
        self.task = task
        self._feed = feed
        self._persister = persister
        self.log_path = task_log_path(logs_dir, run_id, task)
        self._notes = LogWriter(self.log_path, repair=False)
        self._tail = LogTail(self.log_path)
        self._metrics = MetricsFileTail(task_metrics_path(logs_dir, run_id, task))
        self._poll: asyncio.TimerHandle | None = None
        self._following = False
        self._closed = False

    @property
    def metrics_path(self) -> Path:
        return self._metrics.path

    def close(self) -> None:
        self._closed = True
        self._notes.close()
        self._tail.close()

    def note(self, text: str) -> None:
        """One of shipdeck's own lines (S) in the task's log."""
        self._notes.append(time.time(), LogStream.SYS, text.splitlines() or [""])
        self.follow()

    def follow(self) -> None:
        """Publish the lines appended to the log since the last call and record their metrics."""
        if self._following or self._closed:
            return  # a note written while following is read by the same loop
        self._following = True
        try:
            while lines := self._tail.read():
                self._publish(lines)
        finally:
            self._following = False
        self._save_cursor()

    def _publish(self, lines: list[str]) -> None:
        publish, run_id, task = self._feed.publish, self.run_id, self.task
        seen = ""
        info = line_prefix("")
        stream = LogStream.OUT
        for number, line in enumerate(lines, self._tail.number - len(lines)):
            if line[:PREFIX] != seen or not info.body:
                info = line_prefix(line)
                seen, stream = line[:PREFIX], info.stream
            text = line[info.body :]
            data = trusted(LogData, n=number, stream=stream, text=text, ts=info.stamp)
            publish(EventKind.LOG, data, run_id=run_id, task=task, ts=info.epoch)
            if info.stream is LogStream.OUT and text.startswith(METRIC_PREFIX):
                try:
                    reported = parse_metric_line(text)
                except BadMetric as error:
                    self._notes.append(time.time(), LogStream.SYS, [str(error)])
                else:
                    self._record(reported, info.epoch)

    def start_polling(self) -> None:
        """Read $SHIPDECK_METRICS every METRICS_POLL seconds until `stop_polling`.

        A timer rather than a task: most tasks end before the first tick, and a timer costs
        them next to nothing.
        """
        self._poll = asyncio.get_running_loop().call_later(METRICS_POLL, self._tick)

    def _tick(self) -> None:
        self.read_metrics(final=False)
        self.start_polling()

    def stop_polling(self) -> None:
        """Stop the timer and read what the task appended last, unterminated line included."""
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None
        self.read_metrics(final=True)

    def read_metrics(self, *, final: bool) -> None:
        try:
            lines = self._metrics.read_new_lines(final=final)
        except OSError as error:
            self.note(f"could not read $SHIPDECK_METRICS: {error}")
            return
        now = time.time()
        for number, line in lines:
            try:
                reported = parse_metric_json(line)
            except BadMetric as error:
                self.note(f"$SHIPDECK_METRICS line {number}: {error}")
                continue
            for item in reported:
                self._record(item, now)
        if lines:
            self._save_cursor()

    def _save_cursor(self) -> None:
        self._persister.output(
            OutputCursor(
                self.run_id,
                self.task,
                log_offset=self._tail.offset,
                log_lines=self._tail.number,
                metrics_offset=self._metrics.offset,
                metrics_line=self._metrics.line_number,
            )
        )

    def _record(self, reported: Reported, ts: float) -> None:
        metric = to_metric(self.run_id, self.task, reported, ts)
        self._persister.metric(metric)
        self._feed.publish(EventKind.METRIC, metric, run_id=self.run_id, task=self.task)


def to_metric(run_id: str, task: str, reported: Reported, ts: float) -> Metric:
    return Metric(
        run_id=run_id,
        task=task,
        key=reported.key,
        value=reported.value,
        step=reported.step,
        ts=datetime.fromtimestamp(ts, UTC),
    )
