"""Timeouts and cancel kill whole process groups, grandchildren included."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from shipdeck.errors import NotFound, Refused
from shipdeck.model import RunStatus, TaskStatus
from tests.engine.conftest import Engines, eventually, log_texts, process_running, task, workspace

SPAWNS_GRANDCHILD = "sh -c 'sleep 30 & echo $! > {pidfile}; wait'"


async def test_timeout_kills_grandchildren(tmp_path: Path, engines: Engines) -> None:
    command = SPAWNS_GRANDCHILD.format(pidfile="grandchild.pid")
    engine = engines.open(workspace(tmp_path, task("slow", command, timeout=1.0)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.FAILED
    slow = engine.run_detail(run.id).tasks[0]
    assert slow.status == TaskStatus.FAILED
    assert slow.reason == "timed out after 1s"
    assert log_texts(engine, run.id, "slow")[-1] == "timed out after 1s"
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    await eventually(lambda: not process_running(grandchild), within=3)


async def test_leftover_background_processes_are_killed_at_exit(
    tmp_path: Path, engines: Engines
) -> None:
    # The main process exits at once; what it left in its group must not outlive the task.
    command = "sleep 30 & echo $! > bg.pid"
    engine = engines.open(workspace(tmp_path, task("a", command)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.SUCCEEDED
    background = int((tmp_path / "bg.pid").read_text())
    await eventually(lambda: not process_running(background), within=3)


async def test_cancel_kills_running_groups_and_marks_everything(
    tmp_path: Path, engines: Engines
) -> None:
    spec = workspace(
        tmp_path,
        task("one", SPAWNS_GRANDCHILD.format(pidfile="one.pid")),
        task("two", SPAWNS_GRANDCHILD.format(pidfile="two.pid")),
        task("done", "true"),
        task("after", "true", "one", "two"),
    )
    engine = engines.open(spec)
    started = engine.start_run("p", {}, jobs=3)
    pidfiles = [tmp_path / "one.pid", tmp_path / "two.pid"]
    await eventually(lambda: all(p.exists() and p.read_text().strip() for p in pidfiles))
    await eventually(lambda: engine.run_detail(started.id).tasks[2].status.finished)
    cancelled = await engine.cancel(started.id)
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.finished_at is not None
    detail = engine.run_detail(started.id)
    statuses = {t.name: (t.status, t.reason) for t in detail.tasks}
    assert statuses == {
        "one": (TaskStatus.CANCELLED, "cancelled"),
        "two": (TaskStatus.CANCELLED, "cancelled"),
        "done": (TaskStatus.SUCCEEDED, None),
        "after": (TaskStatus.CANCELLED, "cancelled"),
    }
    for pidfile in pidfiles:
        grandchild = int(pidfile.read_text())
        await eventually(lambda pid=grandchild: not process_running(pid), within=3)


async def test_cancel_during_retry_delay(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "exit 1", retries=3, retry_delay=30)))
    started = engine.start_run("p", {})
    await eventually(lambda: engine.run_detail(started.id).tasks[0].status == TaskStatus.RETRYING)
    run = await asyncio.wait_for(engine.cancel(started.id), timeout=5)
    assert run.status == RunStatus.CANCELLED
    a = engine.run_detail(started.id).tasks[0]
    assert a.status == TaskStatus.CANCELLED and a.attempts == 1


async def test_cancel_finished_or_unknown_run_is_refused(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "true")))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    try:
        await engine.cancel(run.id)
    except Refused as error:
        assert str(error) == f"run #{run.id} already succeeded; nothing to cancel"
    else:
        raise AssertionError("cancel of a finished run was not refused")
    try:
        await engine.cancel("999")
    except NotFound as error:
        assert str(error) == "no run #999"
    else:
        raise AssertionError("cancel of an unknown run did not raise NotFound")


async def test_close_kills_running_tasks_and_marks_them(tmp_path: Path, engines: Engines) -> None:
    spec = workspace(tmp_path, task("a", "echo $$ > a.pid; exec sleep 30"), task("b", "true", "a"))
    engine = engines.open(spec)
    started = engine.start_run("p", {})
    pidfile = tmp_path / "a.pid"
    await eventually(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    await engine.close()
    pid = int(pidfile.read_text())
    await eventually(lambda: not process_running(pid), within=3)
    reopened = engines.open(spec)
    run = reopened.get_run(started.id)
    assert run.status == RunStatus.CANCELLED
    tasks = {t.name: (t.status, t.reason) for t in reopened.run_detail(started.id).tasks}
    assert tasks == {
        "a": (TaskStatus.CANCELLED, "runner closed"),
        "b": (TaskStatus.CANCELLED, "runner closed"),
    }


async def test_a_task_ignoring_sigterm_gets_sigkill_after_the_grace(
    tmp_path: Path, engines: Engines
) -> None:
    command = "trap '' TERM; echo $$ > stubborn.pid; while true; do sleep 0.05; done"
    spec = workspace(tmp_path, task("stubborn", command, timeout=0.5))
    engine = engines.open(spec, kill_grace=0.3)
    run = await engine.wait_run(engine.start_run("p", {}).id)
    stubborn = engine.run_detail(run.id).tasks[0]
    assert stubborn.status == TaskStatus.FAILED
    assert stubborn.reason == "timed out after 0.5s"
    assert not process_running(int((tmp_path / "stubborn.pid").read_text()))


async def test_output_held_open_outside_the_group_does_not_hold_the_task(
    tmp_path: Path, engines: Engines
) -> None:
    # A process that left the task's group (setsid) keeps its stdout open: after a grace
    # period the keeper stops reading it and the task ends with what it printed.
    command = "echo before; setsid sh -c 'echo $$ > escaped.pid; sleep 30' & sleep 0.2; echo after"
    engine = engines.open(workspace(tmp_path, task("a", command)))
    try:
        run = await asyncio.wait_for(engine.wait_run(engine.start_run("p", {}).id), timeout=10)
        assert run.status == RunStatus.SUCCEEDED
        assert log_texts(engine, run.id, "a") == ["before", "after"]
    finally:
        escaped = int((tmp_path / "escaped.pid").read_text())
        os.killpg(escaped, signal.SIGKILL)  # setsid made it the leader of its own group
