"""Where one task's output goes: its durable log, the event feed, and its metrics."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from shipdeck.engine.events import EventFeed
from shipdeck.engine.logfile import LogWriter, format_ts
from shipdeck.engine.metrics import (
    METRIC_PREFIX,
    BadMetric,
    MetricsFileTail,
    Reported,
    parse_metric_json,
    parse_metric_line,
)
from shipdeck.engine.persist import Persister
from shipdeck.model import EventKind, LogStream, Metric

METRICS_POLL = 0.25
"""How often $SHIPDECK_METRICS is read while its task runs."""


def params_path(logs_dir: Path, run_id: int) -> Path:
    """The run's params as JSON ($SHIPDECK_PARAMS), written before any of its tasks starts."""
    return logs_dir / str(run_id) / "params.json"


def task_log_path(logs_dir: Path, run_id: int, task: str) -> Path:
    return logs_dir / str(run_id) / f"{_file_name(task)}.log"


def task_metrics_path(logs_dir: Path, run_id: int, task: str) -> Path:
    return logs_dir / str(run_id) / f"{_file_name(task)}.metrics.jsonl"


def _file_name(task: str) -> str:
    return task.replace("%", "%25").replace("/", "%2F").replace("\0", "%00")


class TaskOutput:
    def __init__(
        self, *, logs_dir: Path, run_id: int, task: str, feed: EventFeed, persister: Persister
    ) -> None:
        self.run_id = run_id
        self.task = task
        self._feed = feed
        self._persister = persister
        self._log = LogWriter(task_log_path(logs_dir, run_id, task))
        self._metrics = MetricsFileTail(task_metrics_path(logs_dir, run_id, task))
        self._poll: asyncio.TimerHandle | None = None

    @property
    def metrics_path(self) -> Path:
        return self._metrics.path

    def close(self) -> None:
        self._log.close()

    def note(self, text: str) -> None:
        """One of shipdeck's own lines (S) in the task's log."""
        self.lines(LogStream.SYS, time.time(), text.splitlines() or [""])

    def lines(self, stream: LogStream, ts: float, lines: list[str]) -> None:
        """Lines read from the task at `ts`: logged, published, and scanned for metrics."""
        first = self._log.write(ts, stream, lines)
        publish, stamp = self._feed.publish, format_ts(ts)
        for offset, text in enumerate(lines):
            publish(
                EventKind.LOG,
                {"n": first + offset, "stream": stream.value, "text": text, "ts": stamp},
                run_id=self.run_id,
                task=self.task,
                ts=ts,
            )
        if stream is LogStream.OUT:
            for text in lines:
                if text.startswith(METRIC_PREFIX):
                    try:
                        reported = parse_metric_line(text)
                    except BadMetric as error:
                        self.note(str(error))
                    else:
                        self._record(reported, ts)

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

    def _record(self, reported: Reported, ts: float) -> None:
        metric = Metric(
            run_id=self.run_id,
            task=self.task,
            key=reported.key,
            value=reported.value,
            step=reported.step,
            ts=datetime.fromtimestamp(ts, UTC),
        )
        self._persister.metric(metric)
        self._feed.publish(
            EventKind.METRIC, metric.model_dump(mode="json"), run_id=self.run_id, task=self.task
        )
