"""Schedules on the real workspace daemon: killed with SIGKILL at random moments while it
fires and restarted, it fires no slot twice and loses none (each slot either has its run or
is counted as missed by the next run); it stays up while it has schedules to fire; and the
command line lists, pauses and resumes them through it. One-shot commands never fire."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipdeck.model import RunCause, WorkspaceSpec
from shipdeck.runners import daemon
from shipdeck.workspace import load_workspace
from tests.server.conftest import eventually

WORKSPACE = """
[pipelines.tick]
every = "1s"

[pipelines.tick.tasks.t]
run = "true"

[pipelines.nightly]
schedule = "0 3 * * *"
timezone = "Europe/Berlin"

[pipelines.nightly.tasks.t]
run = "true"
"""


@pytest.fixture
async def ticking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[WorkspaceSpec]:
    monkeypatch.setenv("SHIPDECK_IDLE_EXIT", "1")  # it must stay up anyway: it has schedules
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(WORKSPACE)
    workspace = load_workspace(root)
    try:
        yield workspace
    finally:
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)


def fired_runs(workspace: WorkspaceSpec) -> list[tuple[int, RunCause]]:
    with sqlite3.connect(workspace.state_dir / "shipdeck.db") as db:
        rows = db.execute("SELECT id, cause FROM runs WHERE pipeline = 'tick' ORDER BY id")
        return [(int(r[0]), RunCause.model_validate_json(r[1])) for r in rows]


def fires(workspace: WorkspaceSpec) -> list[tuple[str, int]]:
    with sqlite3.connect(workspace.state_dir / "shipdeck.db") as db:
        rows = db.execute("SELECT slot, run_id FROM schedule_fires WHERE name = 'tick.every'")
        return sorted((str(r[0]), int(r[1])) for r in rows)


async def daemon_pid(workspace: WorkspaceSpec) -> int:
    client = await daemon.attach(workspace, announce=lambda _: None)
    try:
        return (await client.info()).pid
    finally:
        await client.close()


async def test_killed_and_restarted_it_fires_no_slot_twice_and_loses_none(
    ticking: WorkspaceSpec,
) -> None:
    rng = random.Random(7)
    for _ in range(4):
        pid = await daemon_pid(ticking)
        seen = len(fired_runs(ticking))
        await eventually(lambda seen=seen: len(fired_runs(ticking)) > seen, within=20)
        await asyncio.sleep(rng.uniform(0, 1.5))  # a random moment of its firing
        os.kill(pid, signal.SIGKILL)
        await eventually(lambda pid=pid: daemon._gone(pid), within=10)
        await asyncio.sleep(rng.uniform(0, 2))  # down for a moment: slots come due
    pid = await daemon_pid(ticking)
    seen = len(fired_runs(ticking))
    await eventually(lambda: len(fired_runs(ticking)) > seen, within=20)
    await daemon.stop(ticking)

    runs = fired_runs(ticking)
    due = [cause.due_at for _, cause in runs]
    assert all(moment is not None for moment in due)
    assert len(set(due)) == len(due), "a slot fired twice"
    # Every slot between the first and the last either has its run or was counted missed by
    # the run that came next (after a downtime, catch-up off: one run for the newest slot).
    for (_, before), (_, after) in itertools.pairwise(runs):
        assert before.due_at is not None and after.due_at is not None
        gap = round((after.due_at - before.due_at).total_seconds())
        assert gap - 1 == after.missed, (before, after)
    # A fire exists exactly when its run does.
    assert [run_id for _, run_id in fires(ticking)] == sorted(run_id for run_id, _ in runs)
    assert sum(cause.missed for _, cause in runs) > 0  # the downtimes were noticed


def shipdeck(
    workspace: WorkspaceSpec, *args: str, in_process: bool
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if in_process:
        env["SHIPDECK_IN_PROCESS"] = "1"
    else:
        env.pop("SHIPDECK_IN_PROCESS", None)
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(workspace.root), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


async def test_the_command_line_through_the_daemon(ticking: WorkspaceSpec) -> None:
    (ticking.root / "shipdeck.toml").write_text(WORKSPACE.replace('every = "1s"', 'every = "1h"'))
    alone = shipdeck(ticking, "schedules", in_process=True)
    assert alone.returncode == 0, alone.stderr
    # A one-shot command never fires schedules: nobody holds the scheduler lock.
    assert alone.stdout.rstrip().endswith(
        "no runner is firing them now: schedules fire while the workspace's runner runs"
        " (the daemon any shipdeck command starts, or shipdeck serve)"
    )
    listed = shipdeck(ticking, "schedules", in_process=False)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "WHEN", "NEXT", "LAST", "RUN", "STATE"]
    assert lines[1].split()[:3] == ["tick.every", "every", "1h"]
    assert lines[1].endswith("active")
    assert "0 3 * * * (Europe/Berlin)" in lines[2] and lines[2].rstrip().endswith("active")
    assert "CET" in lines[2] or "CEST" in lines[2]
    pid = await daemon_pid(ticking)
    assert lines[-1] == f"fired by the runner in pid {pid}"

    paused = shipdeck(
        ticking, "schedules", "pause", "nightly", "--reason", "holiday", in_process=False
    )
    assert paused.returncode == 0, paused.stderr
    assert paused.stdout.startswith("nightly: paused by ")
    data = json.loads(shipdeck(ticking, "schedules", "--json", in_process=False).stdout)
    nightly = data["schedules"][1]
    assert (nightly["name"], nightly["paused"], nightly["paused_reason"]) == (
        "nightly.schedule",
        True,
        "holiday",
    )
    assert nightly["paused_by"] == paused.stdout.split("paused by ")[1].strip()
    assert data["scheduler_pid"] == pid

    again = shipdeck(ticking, "schedules", "pause", "nightly", in_process=False)
    assert again.returncode == 1
    assert again.stderr.startswith("shipdeck: error: nightly is paused already (by ")
    unknown = shipdeck(ticking, "schedules", "resume", "nope", in_process=False)
    assert unknown.returncode == 2
    assert unknown.stderr == (
        "shipdeck: error: no schedule or trigger 'nope'"
        " (known: nightly, nightly.schedule, tick, tick.every)\n"
    )
    resumed = shipdeck(ticking, "schedules", "resume", "nightly", in_process=False)
    assert resumed.returncode == 0 and resumed.stdout.startswith("nightly: resumed by ")


async def test_a_daemon_with_schedules_does_not_exit_when_idle(ticking: WorkspaceSpec) -> None:
    (ticking.root / "shipdeck.toml").write_text(WORKSPACE.replace('every = "1s"', 'every = "1h"'))
    pid = await daemon_pid(ticking)
    await asyncio.sleep(3)  # three times its idle timeout, with no client and no run
    assert await daemon.probe(ticking) is not None
    assert await daemon_pid(ticking) == pid
