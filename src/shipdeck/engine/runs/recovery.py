"""Cleaning up after an engine process that died (kill -9, power loss) while it owned runs.

Its tasks outlived it: the output keeper (engine/runs/keeper.py) went on reading them into their
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
from collections.abc import Iterator
from pathlib import Path

from shipdeck.engine.runs.logfile import PREFIX, LogTail, line_prefix
from shipdeck.engine.runs.metrics import (
    METRIC_PREFIX,
    BadMetric,
    MetricsFileTail,
    parse_metric_json,
    parse_metric_line,
)
from shipdeck.engine.runs.output import task_log_path, task_metrics_path, to_metric
from shipdeck.engine.runs.store import OutputCursor, Store
from shipdeck.model import LogStream, Metric

KEEPER_WAIT = 5.0
"""How long recovery waits for the keeper to finish a run's logs once its tasks are killed
(it takes that long only if something outside a task's process group holds its output open)."""


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


@contextlib.contextmanager
def logs_released(logs_dir: Path, run_id: str, deadline: float) -> Iterator[None]:
    """Hold the run's log lock (output.lock_run_logs) once the output keeper has let go of it:
    the output of each attempt has ended, so the logs are complete. After `deadline` (a
    time.monotonic()) go on without it: something outside a task's process group may hold
    its output open. Holding it keeps two recovering processes from saving metrics twice."""
    try:
        fd = os.open(logs_dir / str(run_id), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        yield  # the run never started a task
        return
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
            break
        yield
    finally:
        os.close(fd)


def recover_output(store: Store, logs_dir: Path, run_id: str, task: str) -> list[Metric]:
    """Save the metrics in a task's durable output that the store does not have; returns them.

    Reads on from where the store's OutputCursor says the task's saved metrics end, in its
    log and its $SHIPDECK_METRICS file (call it inside `logs_released`).
    """
    cursor = store.output_cursor(run_id, task)
    metrics: list[Metric] = []
    tail = LogTail(task_log_path(logs_dir, run_id, task))
    tail.offset, tail.number = cursor.log_offset, cursor.log_lines
    try:
        while lines := tail.read():
            for line in lines:
                if line.startswith(METRIC_PREFIX, PREFIX):
                    info = line_prefix(line)
                    if info.stream is LogStream.OUT:
                        with contextlib.suppress(BadMetric):
                            reported = parse_metric_line(line[info.body :])
                            metrics.append(to_metric(run_id, task, reported, info.epoch))
    finally:
        tail.close()
    reported_file = MetricsFileTail(
        task_metrics_path(logs_dir, run_id, task),
        offset=cursor.metrics_offset,
        line_number=cursor.metrics_line,
    )
    with contextlib.suppress(OSError):
        lines_read = reported_file.read_new_lines(final=True)
        written = reported_file.path.stat().st_mtime
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
        metrics_offset=reported_file.offset,
        metrics_line=reported_file.line_number,
    )
    if caught_up != cursor:
        store.write(metrics=metrics, outputs=[caught_up])
    return metrics
