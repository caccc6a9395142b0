"""Cleaning up after an engine process that died (kill -9, power loss) while it owned runs.

Its tasks outlived it: the output keeper (engine/keeper.py) went on reading them into their
durable logs. Recovery kills what still runs of them, waits for the keeper to finish each
log, and brings the store up to date from the logs and the $SHIPDECK_METRICS files: the
metrics the dead engine had read but not yet saved, and those it never read.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from pathlib import Path

from shipdeck.engine.logfile import LogTail, stamp_epoch
from shipdeck.engine.metrics import (
    METRIC_PREFIX,
    BadMetric,
    MetricsFileTail,
    parse_metric_json,
    parse_metric_line,
)
from shipdeck.engine.output import task_log_path, task_metrics_path, to_metric
from shipdeck.engine.store import OutputCursor, Store
from shipdeck.model import LogStream, Metric

KEEPER_WAIT = 5.0
"""How long recovery waits for the keeper to finish a run's logs once its tasks are killed
(longer only if something outside a task's process group holds its output open)."""


def kill_orphaned_groups(known: list[tuple[int, list[bytes]]], markers: list[bytes]) -> set[int]:
    """SIGKILL the process groups of a dead engine's tasks; returns the groups killed.

    A `known` (group, markers) pair is killed if a process of that group carries the markers
    in its environment (pids get reused: SHIPDECK_RUN_ID=..., SHIPDECK_TASK=...,
    SHIPDECK_WORKSPACE=...). So is the group of any process carrying all of `markers` (the
    run and the workspace): a task whose pid its engine had not saved yet, or a process that
    left its task's group.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return set()
    wanted = dict(known)
    ours = {os.getpgrp()}
    groups: set[int] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_bytes()
            group = int(stat[stat.rindex(b")") + 2 :].split()[2])
            if group in ours or group in groups:
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            needed = wanted.get(group)
            if all(marker in environ for marker in markers) or (
                needed is not None and all(marker in environ for marker in needed)
            ):
                groups.add(group)
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    return groups


def recover_output(
    store: Store, logs_dir: Path, run_id: int, task: str, *, deadline: float
) -> list[Metric]:
    """Save the metrics in a task's durable output that the store does not have; returns them.

    Waits (until `deadline`, a time.monotonic()) for the keeper to release the task's log,
    then reads on from where the store's OutputCursor says its metrics end. Holding the log's
    lock while doing so keeps two recovering processes from saving the same metrics twice.
    """
    log = _locked_once_released(task_log_path(logs_dir, run_id, task), deadline)
    try:
        cursor = store.output_cursor(run_id, task)
        metrics: list[Metric] = []
        tail = LogTail(task_log_path(logs_dir, run_id, task))
        tail.offset, tail.number = cursor.log_offset, cursor.log_lines
        try:
            while lines := tail.read():
                for _, stamp, stream, text in lines:
                    if stream is LogStream.OUT and text.startswith(METRIC_PREFIX):
                        with contextlib.suppress(BadMetric):
                            metrics.append(
                                to_metric(run_id, task, parse_metric_line(text), stamp_epoch(stamp))
                            )
        finally:
            tail.close()
        reported = MetricsFileTail(
            task_metrics_path(logs_dir, run_id, task),
            offset=cursor.metrics_offset,
            line_number=cursor.metrics_line,
        )
        with contextlib.suppress(OSError):
            lines_read = reported.read_new_lines(final=True)
            written = reported.path.stat().st_mtime
            for _, line in lines_read:
                with contextlib.suppress(BadMetric):
                    metrics.extend(
                        to_metric(run_id, task, item, written) for item in parse_metric_json(line)
                    )
        caught_up = OutputCursor(
            run_id,
            task,
            log_offset=tail.offset,
            log_lines=tail.number,
            metrics_offset=reported.offset,
            metrics_line=reported.line_number,
        )
        if caught_up != cursor:
            store.write(metrics=metrics, outputs=[caught_up])
        return metrics
    finally:
        if log is not None:
            os.close(log)


def _locked_once_released(path: Path, deadline: float) -> int | None:
    """The log, locked once the keeper has let go of it (or unlocked after the deadline);
    None when the task never had a log."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(0.01)
                continue
        return fd
