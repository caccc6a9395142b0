"""Monitors on the real workspace daemon: its scheduler checks them, opens alerts, notifies
and retrains on an alert; the command line reads and acknowledges through it; killed with
SIGKILL at random moments while it checks and restarted, no slot is checked twice and no
check is lost (each check's run has its verdict once the daemon is back)."""

from __future__ import annotations

import asyncio
import contextlib
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
[pipelines.retrain]
on_alert = ["drift"]

[pipelines.retrain.tasks.train]
run = "echo retraining"

[monitors.drift]
run = "echo \\"::metric drift_share=$(cat value)\\""
every = "1s"
thresholds = ["drift_share >= 0.5"]

[notify]
command = ["python3", "notify.py", "got.jsonl"]
"""

NOTIFY = """
import json, sys
with open(sys.argv[1], "a") as out:
    out.write(json.dumps(json.load(sys.stdin)) + "\\n")
"""


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[WorkspaceSpec]:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(WORKSPACE)
    (root / "notify.py").write_text(NOTIFY)
    (root / "value").write_text("0.1\n")
    workspace = load_workspace(root)
    try:
        yield workspace
    finally:
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)


def query(workspace: WorkspaceSpec, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(workspace.state_dir / "shipdeck.db") as db:
        return list(db.execute(sql))


def shipdeck(workspace: WorkspaceSpec, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIPDECK_IN_PROCESS"}
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(workspace.root), *args],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "160", "NO_COLOR": "1"},
        check=False,
        timeout=60,
    )


def notifications(workspace: WorkspaceSpec) -> list[str]:
    path = workspace.root / "got.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["event"] for line in path.read_text().splitlines()]


async def test_the_daemon_checks_alerts_notifies_and_retrains(watched: WorkspaceSpec) -> None:
    listed = shipdeck(watched, "monitors")  # starts the daemon
    assert listed.returncode == 0, listed.stderr
    await eventually(lambda: bool(query(watched, "SELECT 1 FROM monitor_checks")), within=20)
    (watched.root / "value").write_text("0.9\n")
    await eventually(lambda: notifications(watched) == ["alert_opened"], within=20)
    [(alert_id,)] = query(watched, "SELECT id FROM alerts")
    await eventually(
        lambda: bool(query(watched, "SELECT 1 FROM runs WHERE pipeline = 'retrain'")), within=20
    )
    [(trigger, cause)] = query(
        watched, "SELECT trigger, cause FROM runs WHERE pipeline = 'retrain'"
    )
    assert trigger == f"alert #{alert_id} drift"
    assert RunCause.model_validate_json(str(cause)).alert == alert_id

    alerts = shipdeck(watched, "alerts", "--open")
    assert alerts.returncode == 0, alerts.stderr
    assert alerts.stdout.splitlines()[1].split()[:2] == [f"#{alert_id}", "drift"]
    acked = shipdeck(watched, "alerts", "ack", str(alert_id), "--note", "retraining")
    assert acked.returncode == 0, acked.stderr
    (watched.root / "value").write_text("0.2\n")
    await eventually(lambda: notifications(watched) == ["alert_opened", "alert_closed"], within=20)
    [alert] = json.loads(shipdeck(watched, "alerts", "--json").stdout)
    assert (alert["ack_note"], alert["closed_value"]) == ("retraining", 0.2)
    schedules = shipdeck(watched, "schedules").stdout
    assert "monitor:drift.every" in schedules and "retrain.on_alert" in schedules


async def daemon_pid(workspace: WorkspaceSpec) -> int:
    client = await daemon.attach(workspace, announce=lambda _: None)
    try:
        return (await client.info()).pid
    finally:
        await client.close()


async def test_killed_and_restarted_it_checks_no_slot_twice_and_loses_no_check(
    watched: WorkspaceSpec,
) -> None:
    rng = random.Random(11)

    def checks() -> int:
        return len(query(watched, "SELECT id FROM monitor_checks"))

    for _ in range(3):
        pid = await daemon_pid(watched)
        seen = checks()
        await eventually(lambda seen=seen: checks() > seen + 1, within=20)
        await asyncio.sleep(rng.uniform(0, 1.0))  # a random moment of its checking
        os.kill(pid, signal.SIGKILL)
        await eventually(lambda pid=pid: daemon._gone(pid), within=10)
    await daemon_pid(watched)
    listed = shipdeck(watched, "monitors", "--json")  # a look judges what was left
    assert listed.returncode == 0, listed.stderr
    await daemon.stop(watched)

    runs = query(watched, "SELECT id, cause FROM runs WHERE pipeline = 'monitor:drift'")
    rows = query(watched, "SELECT run_id, verdict FROM monitor_checks ORDER BY id")
    assert sorted(run_id for run_id, _ in rows) == sorted(run_id for run_id, _ in runs)
    assert all(verdict != "running" for _, verdict in rows), rows
    due = [RunCause.model_validate_json(str(cause)).due_at for _, cause in runs]
    assert len(set(due)) == len(due), "a slot was checked twice"
    assert {verdict for _, verdict in rows} <= {"ok", "failed"}
