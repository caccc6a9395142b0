"""Monitors on a real engine and store: checks are real subprocesses reporting through
`::metric` and `$SHIPDECK_METRICS`, judged against thresholds; alerts open, close and are
acknowledged; the scheduler fires monitors and on_alert triggers with a test clock (no
sleeps: each look is one `tick()` at the clock's time)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import textwrap
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipdeck.engine.automation.scheduler import Scheduler
from shipdeck.errors import InvalidInput, NotFound, Refused
from shipdeck.model import (
    AlertAcknowledgedEvent,
    AlertClosedEvent,
    AlertOpenedEvent,
    CheckFinishedEvent,
    RunStatus,
    TriggerKind,
    Verdict,
)
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.workspace import load_workspace
from tests.engine.legacy_store import mark_legacy, runs_version


class Clock:
    def __init__(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Open = Callable[..., Awaitable[tuple[LocalRunner, Scheduler]]]

DRIFT = """
[pipelines.retrain]
on_alert = ["drift"]
cooldown = "1h"

[pipelines.retrain.tasks.train]
run = "echo retraining"

[monitors.drift]
run = "sh check.sh"
every = "10m"
thresholds = ["drift_share >= 0.5", "rows < 100"]
"""


CHECK = """
echo "::metric drift_share=$(cat value)"
echo '{"key": "rows", "value": 500}' >> "$SHIPDECK_METRICS"
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    (path / "check.sh").write_text(CHECK)
    return path


@pytest.fixture
async def open_runner(root: Path) -> AsyncIterator[Open]:
    opened: list[LocalRunner] = []

    async def open_(toml: str, clock: Clock) -> tuple[LocalRunner, Scheduler]:
        (root / "shipdeck.toml").write_text(textwrap.dedent(toml))
        runner = await open_local_runner(load_workspace(root), user="ops@host")
        opened.append(runner)
        return runner, runner.start_scheduling(clock=clock)

    try:
        yield open_
    finally:
        for runner in opened:
            await runner.close()


def set_value(root: Path, value: float) -> None:
    (root / "value").write_text(f"{value}\n")


async def test_a_crossed_threshold_opens_an_alert_and_back_inside_closes_it(
    root: Path, open_runner: Open
) -> None:
    clock = Clock("2026-01-05T09:00:00+00:00")
    runner, _ = await open_runner(DRIFT, clock)
    after = await runner.last_seq()
    set_value(root, 0.2)
    check = await runner.check_monitor("drift")
    assert check.verdict == Verdict.OK
    assert check.values == {"drift_share": 0.2, "rows": 500.0}  # both channels
    assert [(t.threshold, t.value, t.crossed) for t in check.thresholds] == [
        ("drift_share >= 0.5", 0.2, False),
        ("rows < 100", 500.0, False),
    ]
    assert await runner.alerts() == []

    set_value(root, 0.75)
    clock.advance(60)
    check = await runner.check_monitor("drift")
    assert check.verdict == Verdict.ALERTING
    [alert] = await runner.alerts(open_only=True)
    assert (alert.monitor, alert.threshold, alert.metric, alert.value) == (
        "drift",
        "drift_share >= 0.5",
        "drift_share",
        0.75,
    )
    assert alert.since == datetime(2026, 1, 5, 9, 1, tzinfo=UTC)
    assert alert.opened_check == check.id

    set_value(root, 0.9)  # still outside: the same alert, its last value follows
    clock.advance(60)
    await runner.check_monitor("drift")
    [same] = await runner.alerts(open_only=True)
    assert (same.id, same.value, same.last_value) == (alert.id, 0.75, 0.9)

    set_value(root, 0.1)
    clock.advance(60)
    check = await runner.check_monitor("drift")
    assert check.verdict == Verdict.OK
    assert await runner.alerts(open_only=True) == []
    [closed] = await runner.alerts()
    assert closed.id == alert.id
    assert closed.closed_at == datetime(2026, 1, 5, 9, 3, tzinfo=UTC)
    assert closed.closed_value == 0.1

    history = await runner.monitor_history("drift")
    assert [c.verdict for c in history] == [
        Verdict.OK,
        Verdict.ALERTING,
        Verdict.ALERTING,
        Verdict.OK,
    ]
    assert [c.values["drift_share"] for c in history] == [0.1, 0.9, 0.75, 0.2]
    log = await runner.read_log(history[0].run_id, "check")
    assert "::metric drift_share=0.1" in [line.text for line in log.lines]

    page = await runner.wait_events(after, wait=0)
    kinds = [
        type(e)
        for e in page.events
        if not e.kind.value.startswith(("run", "task", "log", "metric"))
    ]
    assert kinds == [
        CheckFinishedEvent,
        CheckFinishedEvent,
        AlertOpenedEvent,
        CheckFinishedEvent,
        CheckFinishedEvent,
        AlertClosedEvent,
    ]


async def test_acknowledging_records_who_and_the_note_once(root: Path, open_runner: Open) -> None:
    runner, _ = await open_runner(DRIFT, Clock("2026-01-05T09:00:00+00:00"))
    set_value(root, 0.8)
    await runner.check_monitor("drift")
    [alert] = await runner.alerts()
    after = await runner.last_seq()
    with pytest.raises(InvalidInput, match="control character"):
        await runner.ack_alert(alert.id, note="looking\x1b[2J")
    with pytest.raises(InvalidInput, match="note"):
        await runner.ack_alert(alert.id, note="  ")
    assert (await runner.alerts())[0].acked_by is None  # refused: nothing changed
    acked = await runner.ack_alert(alert.id, note="new supplier data, retraining")
    assert (acked.acked_by, acked.ack_note) == ("ops@host", "new supplier data, retraining")
    assert acked.acked_at is not None and acked.closed_at is None  # still open
    with pytest.raises(Refused, match="acknowledged already by ops@host"):
        await runner.ack_alert(alert.id, note="again")
    with pytest.raises(NotFound, match="no alert #99"):
        await runner.ack_alert(99, note="x")
    page = await runner.wait_events(after, wait=0)
    [event] = page.events
    assert isinstance(event, AlertAcknowledgedEvent) and event.data.ack_note.startswith("new")


async def test_a_failed_check_or_a_missing_value_changes_no_alert(
    root: Path, open_runner: Open
) -> None:
    runner, _ = await open_runner(DRIFT, Clock("2026-01-05T09:00:00+00:00"))
    set_value(root, 0.8)
    await runner.check_monitor("drift")
    (root / "value").unlink()  # `cat` fails: the check reports drift_share= (no value)
    check = await runner.check_monitor("drift")
    assert check.verdict == Verdict.FAILED
    assert check.reason == "the check reported no value for drift_share"
    assert len(await runner.alerts(open_only=True)) == 1  # no verdict: the alert stays


async def test_a_check_runs_as_a_task_env_cwd_timeout_and_no_credentials(
    root: Path, open_runner: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPDECK_TOKEN", "runner-secret-7")
    (root / "sub").mkdir()
    toml = """
    [monitors.env]
    run = "pwd; env; echo \\"::metric seen=${SHIPDECK_TOKEN:-0}${LEVEL}\\""
    env = { LEVEL = "3" }
    cwd = "sub"
    thresholds = ["seen > 5"]

    [monitors.slow]
    run = "sleep 30"
    timeout = "0.5s"
    thresholds = ["x > 1"]
    """
    runner, _ = await open_runner(toml, Clock("2026-01-05T09:00:00+00:00"))
    check = await runner.check_monitor("env")
    assert (check.verdict, check.values) == (Verdict.OK, {"seen": 3.0})
    log = [line.text for line in (await runner.read_log(check.run_id, "check")).lines]
    assert str(root / "sub") in log
    assert not any("runner-secret-7" in line for line in log)
    check = await runner.check_monitor("slow")
    assert check.verdict == Verdict.FAILED
    assert check.reason.startswith("check timed out after 0.5s")
    with pytest.raises(NotFound, match=r"no monitor 'nope'.*monitors: env, slow"):
        await runner.check_monitor("nope")


async def test_the_scheduler_fires_a_monitor_once_per_slot_across_a_restart(
    root: Path, open_runner: Open
) -> None:
    set_value(root, 0.1)
    clock = Clock("2026-01-05T09:05:00+00:00")
    runner, scheduler = await open_runner(DRIFT, clock)
    assert await scheduler.tick() == []  # armed now
    clock.advance(5 * 60)  # 09:10, the slot
    [run] = await scheduler.tick()
    assert (run.pipeline, run.trigger, run.user) == ("monitor:drift", "every 10m", run.user)
    assert run.cause is not None and run.cause.schedule == "monitor:drift.every"
    await runner.wait_run(run.id)
    assert await scheduler.tick() == []
    listed = {s.name: s for s in (await runner.schedules()).schedules}
    assert listed["monitor:drift.every"].monitor == "drift"
    assert listed["monitor:drift.every"].next_at == datetime(2026, 1, 5, 9, 20, tzinfo=UTC)
    [info] = await runner.monitors()
    assert (info.state, info.rule, info.recent) == (Verdict.OK, "every 10m", [0.1])
    assert info.next_at == datetime(2026, 1, 5, 9, 20, tzinfo=UTC)
    await runner.close()

    again, scheduler = await open_runner(DRIFT, clock)  # restarted at the same moment
    assert await scheduler.tick() == []
    clock.advance(35 * 60)  # 09:45: three slots missed, catch-up off: one check
    [run] = await scheduler.tick()
    assert run.cause is not None and run.cause.missed == 2
    await again.wait_run(run.id)
    history = await again.monitor_history("drift")
    assert [c.verdict for c in history] == [Verdict.OK, Verdict.OK]


async def test_pausing_a_monitor_stops_its_checks(root: Path, open_runner: Open) -> None:
    set_value(root, 0.1)
    clock = Clock("2026-01-05T09:05:00+00:00")
    runner, scheduler = await open_runner(DRIFT, clock)
    await scheduler.tick()
    await runner.pause_schedule("monitor:drift", reason="maintenance")
    clock.advance(3600)
    assert await scheduler.tick() == []
    [info] = await runner.monitors()
    assert info.paused and info.next_at is None
    await runner.resume_schedule("monitor:drift")
    assert await scheduler.tick() == []  # resumed from now: nothing that came due fires


async def test_on_alert_retrains_once_per_cooldown_and_says_which_alert(
    root: Path, open_runner: Open
) -> None:
    clock = Clock("2026-01-05T09:00:00+00:00")
    manual = DRIFT.replace('every = "10m"\n', "")  # checked only when asked, here
    runner, scheduler = await open_runner(manual, clock)
    await scheduler.tick()  # armed: alerts from before do not count
    set_value(root, 0.9)
    await runner.check_monitor("drift")
    [alert] = await runner.alerts()
    [run] = await scheduler.tick()
    assert (run.pipeline, run.trigger) == ("retrain", f"alert #{alert.id} drift")
    assert run.cause is not None
    assert (run.cause.kind, run.cause.alert, run.cause.monitor) == (
        TriggerKind.ON_ALERT,
        alert.id,
        "drift",
    )
    assert (await runner.wait_run(run.id)).status == RunStatus.SUCCEEDED
    assert await scheduler.tick() == []

    # Closed and opened again ten minutes later: inside the cool-down, no run.
    for value in (0.1, 0.9):
        set_value(root, value)
        clock.advance(300)
        await runner.check_monitor("drift")
    assert len(await runner.alerts()) == 2
    assert await scheduler.tick() == []
    # An hour after the run: the next alert retrains again.
    for value in (0.1, 0.95):
        set_value(root, value)
        clock.advance(1800)
        await runner.check_monitor("drift")
    [newest, *_] = await runner.alerts()
    [run] = await scheduler.tick()
    assert run.cause is not None and run.cause.alert == newest.id
    await runner.wait_run(run.id)
    listed = {s.name: s for s in (await runner.schedules()).schedules}
    assert listed["retrain.on_alert"].rule == "alert of drift (cooldown 1h)"


CHILD = """
import asyncio, os, signal, sys
from pathlib import Path
from shipdeck.runners.local import open_local_runner
from shipdeck.workspace import load_workspace

async def main():
    runner = await open_local_runner(load_workspace(Path(sys.argv[1])))
    check = await runner.check_monitor("slow", wait=False)
    print(check.id, check.run_id, flush=True)
    await asyncio.sleep(0.3)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_a_check_whose_process_was_killed_is_judged_by_the_next_look(
    root: Path, open_runner: Open
) -> None:
    toml = """
    [monitors.slow]
    run = "echo '::metric x=1'; sleep 30"
    thresholds = ["x > 5"]
    """
    (root / "shipdeck.toml").write_text(textwrap.dedent(toml))
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(root), stdout=PIPE, stderr=PIPE
    )
    out, err = await child.communicate()
    assert child.returncode == -signal.SIGKILL, err
    check_text, run_id = out.decode().split()
    check_id = int(check_text)
    with sqlite3.connect(root / ".shipdeck" / "shipdeck.db") as db:
        verdict = db.execute("SELECT verdict FROM monitor_checks WHERE id = ?", (check_id,))
        assert verdict.fetchone()[0] == "running"
    runner, _ = await open_runner(toml, Clock("2026-01-05T09:00:00+00:00"))
    [check] = await runner.monitor_history("slow")
    assert (check.id, check.run_id, check.verdict) == (check_id, run_id, Verdict.FAILED)
    assert "interrupted" in check.reason
    assert check.values == {"x": 1.0}  # what it reported before the kill is kept


async def test_a_killed_check_whose_run_was_deleted_is_recorded_as_failed(
    root: Path, open_runner: Open
) -> None:
    toml = """
    [monitors.slow]
    run = "echo '::metric x=1'; sleep 30"
    thresholds = ["x > 5"]
    """
    (root / "shipdeck.toml").write_text(textwrap.dedent(toml))
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(root), stdout=PIPE, stderr=PIPE
    )
    out, err = await child.communicate()
    assert child.returncode == -signal.SIGKILL, err
    check_text, run_id = out.decode().split()
    check_id = int(check_text)
    # Deleted before any look judged the check (as `gc` deletes a finished run's rows).
    with sqlite3.connect(root / ".shipdeck" / "shipdeck.db") as db:
        db.execute("DELETE FROM tasks WHERE run_id = ?", (run_id,))
        db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
    runner, _ = await open_runner(toml, Clock("2026-01-05T09:00:00+00:00"))
    [check] = await runner.monitor_history("slow")
    assert (check.id, check.verdict, check.reason) == (
        check_id,
        Verdict.FAILED,
        f"run #{run_id} is gone",
    )


def test_a_version_6_store_gains_the_monitor_tables(tmp_path: Path) -> None:
    from shipdeck.engine.runs.store import SCHEMA_VERSION, Store

    path = tmp_path / "shipdeck.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE monitor_checks")
        db.execute("DROP TABLE alerts")
        mark_legacy(db, 6)
    Store(path).close()
    with sqlite3.connect(path) as db:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert {"monitor_checks", "alerts", "alerts_open", "monitor_checks_running"} <= names
    assert runs_version(path) == SCHEMA_VERSION == 8
