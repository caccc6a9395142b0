"""Several processes on one workspace: crash recovery, cross-process cancel and wait."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from shipdeck.engine import Engine, task_log_path
from shipdeck.engine.events import SEQ_BLOCK
from shipdeck.engine.runs.store import Store
from shipdeck.errors import WorkspaceError
from shipdeck.model import RunStatus, TaskStatus
from tests.engine.conftest import (
    Engines,
    Owner,
    eventually,
    log_texts,
    process_running,
    start_owner,
    task,
    workspace,
)

TALKER = (
    "echo $$ > talker.pid; i=0;"
    " while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); sleep 0.01; done"
)


def db_pid(root: Path, run_id: str, name: str) -> int | None:
    with sqlite3.connect(root / ".shipdeck" / "shipdeck.db") as db:
        row = db.execute(
            "SELECT pid FROM tasks WHERE run_id = ? AND name = ?", (int(run_id), name)
        ).fetchone()
    return None if row is None else row[0]


async def test_kill_9_of_the_owner_then_recovery(
    tmp_path: Path, engines: Engines, owners: list[Owner]
) -> None:
    spec = workspace(
        tmp_path,
        task("quick", "echo done"),
        task("talker", TALKER),
        task("after", "true", "talker"),
    )
    owner = await start_owner(spec, owners)
    log = task_log_path(tmp_path / ".shipdeck" / "logs", owner.run_id, "talker")
    await eventually(lambda: log.exists() and log.read_bytes().count(b"\n") >= 20)
    await eventually(lambda: db_pid(tmp_path, owner.run_id, "talker") is not None)
    before_crash = log.read_bytes()
    owner.process.send_signal(signal.SIGKILL)
    await owner.process.wait()

    engine = engines.open(spec)
    run = engine.get_run(owner.run_id)
    assert run.status == RunStatus.INTERRUPTED and run.finished_at is not None
    tasks = {t.name: t.status for t in engine.run_detail(run.id).tasks}
    assert tasks == {
        "quick": TaskStatus.SUCCEEDED,
        "talker": TaskStatus.INTERRUPTED,
        "after": TaskStatus.INTERRUPTED,
    }
    after_recovery = log.read_bytes()
    assert after_recovery.startswith(before_crash)
    lines = engine.read_log(run.id, "talker", start=-1).lines
    assert lines[0].stream == "sys" and lines[0].text.startswith("interrupted")
    # The orphaned task (its pid checked against its environment) was killed too.
    talker = int((tmp_path / "talker.pid").read_text())
    await eventually(lambda: not process_running(talker), within=3)
    assert engine.store.integrity_check() == "ok"
    # Event numbers restart above the whole block the dead owner had reserved.
    assert engine.last_seq() >= SEQ_BLOCK
    # A new run works, numbered after the interrupted one.
    again = engine.start_run("p", {})
    assert again.id == str(int(run.id) + 1)
    assert (await engine.cancel(again.id)).status == RunStatus.CANCELLED


async def test_recovery_leaves_runs_of_live_owners_alone(
    tmp_path: Path, engines: Engines, owners: list[Owner]
) -> None:
    spec = workspace(tmp_path, task("sleeper", "echo $$ > sleeper.pid; exec sleep 30"))
    owner = await start_owner(spec, owners)
    await eventually(lambda: db_pid(tmp_path, owner.run_id, "sleeper") is not None)
    observer = engines.open(spec)
    assert not observer.get_run(owner.run_id).status.finished
    # The owner dies while we watch; cancel from here then recovers the run.
    owner.process.send_signal(signal.SIGKILL)
    await owner.process.wait()
    after = observer.last_seq()
    run = await observer.cancel(owner.run_id)
    assert run.status == RunStatus.INTERRUPTED
    page = await observer.wait_events(after, wait=0)
    assert [(e.kind.value, e.task, e.data.status) for e in page.events] == [
        ("task", "sleeper", "interrupted"),
        ("run", None, "interrupted"),
    ]
    sleeper = int((tmp_path / "sleeper.pid").read_text())
    await eventually(lambda: not process_running(sleeper), within=3)


async def test_cancel_from_another_process(
    tmp_path: Path, engines: Engines, owners: list[Owner]
) -> None:
    spec = workspace(
        tmp_path,
        task("sleeper", "echo $$ > sleeper.pid; exec sleep 30"),
        task("after", "true", "sleeper"),
    )
    owner = await start_owner(spec, owners)
    pidfile = tmp_path / "sleeper.pid"
    await eventually(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    other = engines.open(spec)
    run = await other.cancel(owner.run_id)
    assert run.status == RunStatus.CANCELLED
    tasks = {t.name: (t.status, t.reason) for t in other.run_detail(run.id).tasks}
    assert tasks == {
        "sleeper": (TaskStatus.CANCELLED, "cancelled"),
        "after": (TaskStatus.CANCELLED, "cancelled"),
    }
    assert await owner.final_status() == "cancelled"
    assert owner.process.returncode == 0
    assert not process_running(int(pidfile.read_text()))


async def test_wait_for_a_run_of_another_process(
    tmp_path: Path, engines: Engines, owners: list[Owner]
) -> None:
    spec = workspace(tmp_path, task("a", "sleep 0.3; echo hi"))
    owner = await start_owner(spec, owners)
    other = engines.open(spec)
    run = await asyncio.wait_for(other.wait_run(owner.run_id), timeout=10)
    assert run.status == RunStatus.SUCCEEDED
    assert [line.text for line in other.read_log(run.id, "a").lines] == ["hi"]
    assert await owner.final_status() == "succeeded"


def test_store_uses_wal_and_a_schema_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.close()
    with sqlite3.connect(tmp_path / "s.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"runs", "tasks", "metrics", "meta"} <= tables


async def test_a_dead_owner_is_noticed_when_listing_runs(
    tmp_path: Path, engines: Engines, owners: list[Owner]
) -> None:
    spec = workspace(tmp_path, task("sleeper", "exec sleep 30"))
    owner = await start_owner(spec, owners)
    observer = engines.open(spec)
    assert not observer.runs()[0].status.finished
    owner.process.send_signal(signal.SIGKILL)
    await owner.process.wait()
    # A task the owner was spawning at that instant holds the owner's lock until its exec
    # closes it (close-on-exec): the listing notices once that is over, a moment later.
    await eventually(lambda: observer.runs()[0].status == RunStatus.INTERRUPTED)


def test_an_unusable_history_is_one_clear_error(tmp_path: Path) -> None:
    spec = workspace(tmp_path, task("a", "true"))
    state = tmp_path / ".shipdeck"
    state.mkdir()
    (state / "shipdeck.db").write_bytes(b"this is not a database, just some bytes" * 100)
    with pytest.raises(WorkspaceError, match="cannot open the run history") as raised:
        Engine(spec)
    assert "\n" not in str(raised.value)
    (state / "shipdeck.db").unlink()
    with sqlite3.connect(state / "shipdeck.db") as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(WorkspaceError, match="newer shipdeck"):
        Engine(spec)


def keeper_pids() -> list[int]:
    """This process's output keepers (engine/runs/keeper.py)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_bytes()
                parent = int(stat[stat.rindex(b")") + 2 :].split()[1])
                if parent == os.getpid() and b"keeper.py" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


async def test_a_dead_keeper_fails_its_tasks_and_the_next_task_gets_a_new_one(
    tmp_path: Path, engines: Engines
) -> None:
    spec = workspace(tmp_path, task("a", "echo $$ > a.pid; echo started; exec sleep 30"))
    engine = engines.open(spec)
    started = engine.start_run("p", {})
    await eventually(lambda: "started" in log_texts(engine, started.id, "a"))
    (keeper,) = keeper_pids()
    os.kill(keeper, signal.SIGKILL)
    run = await asyncio.wait_for(engine.wait_run(started.id), timeout=10)
    a = engine.run_detail(run.id).tasks[0]
    assert (run.status, a.status) == (RunStatus.FAILED, TaskStatus.FAILED)
    assert a.reason == "shipdeck error: the output keeper exited"
    # Its output went nowhere any more: the task was killed rather than left running.
    assert not process_running(int((tmp_path / "a.pid").read_text()))
    again = await engine.wait_run(engine.start_run("p", {}).id)
    assert "started" in log_texts(engine, again.id, "a")
    assert len(keeper_pids()) == 1
