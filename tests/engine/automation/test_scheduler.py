"""The scheduler on a real engine and store, driven by a test clock: no sleeps, each look is
one `tick()` at the clock's time. Runs are real (quick) subprocesses."""

from __future__ import annotations

import os
import sqlite3
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipdeck.engine.automation.schedule_store import Fire
from shipdeck.engine.automation.scheduler import Scheduler
from shipdeck.errors import NotFound, Refused, WorkspaceError
from shipdeck.model import EventKind, Run, RunStatus, ScheduleEvent, ScheduleFiredEvent, TriggerKind
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.workspace import load_workspace
from tests.engine.legacy_store import mark_legacy, runs_version


class Clock:
    def __init__(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).timestamp()

    def advance(self, seconds: float) -> None:
        self.now += seconds


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


Open = Callable[..., Awaitable[tuple[LocalRunner, Scheduler]]]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
async def open_runner(root: Path) -> AsyncIterator[Open]:
    """Write shipdeck.toml and open a runner that schedules with the given clock; every
    runner opened is closed at the end."""
    opened: list[LocalRunner] = []

    def write(toml: str | None) -> None:
        root.mkdir(exist_ok=True)
        if toml is not None:
            (root / "shipdeck.toml").write_text(textwrap.dedent(toml))

    async def open_(toml: str | None, clock: Clock) -> tuple[LocalRunner, Scheduler]:
        write(toml)
        runner = await open_local_runner(load_workspace(root), user="ops@host")
        opened.append(runner)
        return runner, runner.start_scheduling(clock=clock)

    try:
        yield open_
    finally:
        for runner in opened:
            await runner.close()


async def finish(runner: LocalRunner, runs: list[Run]) -> list[Run]:
    return [await runner.wait_run(run.id) for run in runs]


def run_count(root: Path) -> int:
    with sqlite3.connect(root / ".shipdeck" / "shipdeck.db") as db:
        return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


NIGHTLY = """
[pipelines.nightly]
schedule = "30 2 * * *"
timezone = "Europe/Berlin"

[pipelines.nightly.tasks.t]
run = "true"
"""

HOURLY = """
[pipelines.hourly]
every = "1h"

[pipelines.hourly.tasks.t]
run = "true"
"""


async def test_nothing_fires_for_what_came_before_a_schedule_was_first_seen(
    open_runner: Open,
) -> None:
    clock = Clock("2025-03-29T12:00:00+00:00")
    _, scheduler = await open_runner(NIGHTLY, clock)
    assert await scheduler.tick() == []  # armed now: last night's slot is not "missed"
    clock.set("2025-03-30T00:59:59+00:00")
    assert await scheduler.tick() == []


async def test_fire_times_across_the_spring_dst_change(open_runner: Open) -> None:
    clock = Clock("2025-03-29T12:00:00+00:00")
    runner, scheduler = await open_runner(NIGHTLY, clock)
    await scheduler.tick()
    listed = (await runner.schedules()).schedules
    assert [(s.name, s.kind, s.next_at) for s in listed] == [
        ("nightly.schedule", TriggerKind.SCHEDULE, utc("2025-03-30T01:00:00+00:00"))
    ]
    # 02:30 does not exist in Berlin on 2025-03-30: the run starts when clocks show 03:00.
    clock.set("2025-03-30T01:00:00+00:00")
    [run] = await finish(runner, await scheduler.tick())
    assert run.status == RunStatus.SUCCEEDED
    assert run.trigger == "schedule 03:00 CEST"
    assert run.user.startswith("scheduler@")
    assert run.cause is not None
    assert (run.cause.kind, run.cause.schedule, run.cause.missed) == (
        TriggerKind.SCHEDULE,
        "nightly.schedule",
        0,
    )
    assert run.cause.due_at == utc("2025-03-30T01:00:00+00:00")
    assert await scheduler.tick() == []  # the same slot, looked at again
    clock.set("2025-03-31T00:30:00+00:00")  # 02:30 CEST
    [run] = await finish(runner, await scheduler.tick())
    assert run.trigger == "schedule 02:30 CEST"
    detail = await runner.run(run.id)
    assert detail.run.cause == run.cause  # recorded, not only returned
    listed = (await runner.schedules()).schedules
    assert (listed[0].last_run, listed[0].last_status) == (run.id, RunStatus.SUCCEEDED)
    assert listed[0].next_at == utc("2025-04-01T00:30:00+00:00")


async def test_after_downtime_at_most_one_missed_run_and_it_says_so(
    open_runner: Open, root: Path
) -> None:
    clock = Clock("2025-06-01T10:30:00+00:00")
    runner, scheduler = await open_runner(HOURLY, clock)
    await scheduler.tick()
    await runner.close()  # the runner is down from 10:30 ...
    clock.set("2025-06-01T15:10:00+00:00")  # ... to 15:10: 11:00 to 15:00 missed (5 slots)
    runner, scheduler = await open_runner(None, clock)
    [run] = await finish(runner, await scheduler.tick())
    assert run.cause is not None
    assert run.cause.due_at == utc("2025-06-01T15:00:00+00:00")  # the newest slot
    assert run.cause.missed == 4
    assert run.trigger == "every 1h (+4 missed)"
    assert await scheduler.tick() == []
    assert run_count(root) == 1


async def test_catchup_starts_every_missed_run(open_runner: Open) -> None:
    clock = Clock("2025-06-01T10:30:00+00:00")
    runner, scheduler = await open_runner(HOURLY.replace('"1h"', '"1h"\ncatchup = true'), clock)
    await scheduler.tick()
    clock.set("2025-06-01T13:10:00+00:00")
    runs = await finish(runner, await scheduler.tick())
    due = [run.cause.due_at for run in runs if run.cause]
    assert due == [utc(f"2025-06-01T{h}:00:00+00:00") for h in ("11", "12", "13")]
    assert all(run.cause and run.cause.missed == 0 for run in runs)


async def test_pause_and_resume_are_recorded_and_nothing_due_while_paused_fires(
    open_runner: Open,
) -> None:
    clock = Clock("2025-06-01T10:30:00+00:00")
    runner, scheduler = await open_runner(HOURLY, clock)
    await scheduler.tick()
    after = runner.engine.last_seq()
    action = await runner.pause_schedule("hourly", reason="migrating the warehouse")
    assert (action.name, action.action, action.user) == ("hourly", "pause", "ops@host")
    [listed] = (await runner.schedules()).schedules
    assert listed.paused and listed.paused_by == "ops@host"
    assert (listed.paused_as, listed.paused_reason) == ("hourly", "migrating the warehouse")
    assert listed.next_at is None
    with pytest.raises(Refused, match=r"hourly is paused already \(by ops@host"):
        await runner.pause_schedule("hourly")
    with pytest.raises(Refused, match=r"hourly\.every is paused already through hourly \(by"):
        await runner.pause_schedule("hourly.every")
    clock.set("2025-06-01T12:10:00+00:00")
    assert await scheduler.tick() == []  # 11:00 and 12:00 came due while paused
    with pytest.raises(Refused, match=r"hourly\.every is not paused itself; resume hourly"):
        await runner.resume_schedule("hourly.every")
    await runner.resume_schedule("hourly")
    assert await scheduler.tick() == []  # resumed from now: 11:00 and 12:00 never fire
    clock.set("2025-06-01T13:00:00+00:00")
    [run] = await finish(runner, await scheduler.tick())
    assert run.cause and run.cause.due_at == utc("2025-06-01T13:00:00+00:00")
    assert run.cause.missed == 0
    store = runner.autopilot.schedule_book().store
    assert [(a.name, a.action, a.user) for a in store.actions()] == [
        ("hourly", "resume", "ops@host"),
        ("hourly", "pause", "ops@host"),
    ]
    page = await runner.wait_events(after, wait=0)
    kinds = [(e.kind, e.data.action) for e in page.events if isinstance(e, ScheduleEvent)]
    assert kinds == [(EventKind.SCHEDULE, "pause"), (EventKind.SCHEDULE, "resume")]
    with pytest.raises(Refused, match="hourly is not paused"):
        await runner.resume_schedule("hourly")
    with pytest.raises(NotFound, match="no schedule or trigger 'nightly' \\(known: hourly"):
        await runner.pause_schedule("nightly")


async def test_a_fire_flows_through_the_event_stream(open_runner: Open) -> None:
    clock = Clock("2025-06-01T10:30:00+00:00")
    runner, scheduler = await open_runner(HOURLY, clock)
    await scheduler.tick()
    after = runner.engine.last_seq()
    clock.set("2025-06-01T11:00:00+00:00")
    [run] = await finish(runner, await scheduler.tick())
    page = await runner.wait_events(after, wait=0)
    fired = [e for e in page.events if e.kind == EventKind.SCHEDULE_FIRED]
    assert len(fired) == 1 and fired[0].run_id == run.id
    assert isinstance(fired[0], ScheduleFiredEvent)
    assert fired[0].data.schedule == "hourly.every"
    assert fired[0].data.trigger == "every 1h"
    assert fired[0].data.cause.model_dump(mode="json")["due_at"] == "2025-06-01T11:00:00Z"


ON_SUCCESS = """
[pipelines.ingest]
params = {{ fail = false }}
[pipelines.ingest.tasks.t]
run = "test $SHIPDECK_PARAM_FAIL = false"

[pipelines.retrain]
on_success = ["ingest"]
{catchup}
[pipelines.retrain.tasks.t]
run = "true"
"""


async def test_on_success_starts_after_an_upstream_success_only(open_runner: Open) -> None:
    clock = Clock("2025-06-01T10:00:00+00:00")
    runner, scheduler = await open_runner(ON_SUCCESS.format(catchup=""), clock)
    earlier = await runner.start_run("ingest")
    await runner.wait_run(earlier.id)
    await scheduler.tick()  # armed: the success before it does not count
    assert await scheduler.tick() == []
    failed = await runner.wait_run((await runner.start_run("ingest", {"fail": "true"})).id)
    assert failed.status == RunStatus.FAILED
    assert await scheduler.tick() == []
    upstream = await runner.wait_run((await runner.start_run("ingest")).id)
    [run] = await finish(runner, await scheduler.tick())
    assert run.pipeline == "retrain" and run.trigger == f"after ingest #{upstream.id}"
    assert run.cause and (run.cause.upstream_run, run.cause.upstream_pipeline) == (
        upstream.id,
        "ingest",
    )
    assert await scheduler.tick() == []


@pytest.mark.parametrize(("catchup", "started"), [(False, 1), (True, 2)])
async def test_on_success_after_downtime(open_runner: Open, catchup: bool, started: int) -> None:
    clock = Clock("2025-06-01T10:00:00+00:00")
    toml = ON_SUCCESS.format(catchup="catchup = true" if catchup else "")
    runner, scheduler = await open_runner(toml, clock)
    await scheduler.tick()
    first = await runner.wait_run((await runner.start_run("ingest")).id)
    second = await runner.wait_run((await runner.start_run("ingest")).id)
    runs = await finish(runner, await scheduler.tick())
    assert len(runs) == started
    assert runs[-1].cause and runs[-1].cause.upstream_run == second.id
    if not catchup:
        assert runs[0].cause and runs[0].cause.missed == 1
        assert runs[0].trigger == f"after ingest #{second.id} (+1 missed)"
    else:
        assert runs[0].cause and runs[0].cause.upstream_run == first.id
    assert await scheduler.tick() == []


async def test_an_upstream_run_still_going_holds_back_the_later_ones(open_runner: Open) -> None:
    toml = ON_SUCCESS.format(catchup="catchup = true").replace(
        'run = "test $SHIPDECK_PARAM_FAIL = false"',
        'run = "test $SHIPDECK_PARAM_FAIL = false && while [ ! -e go ]; do sleep 0.02; done"',
    )
    clock = Clock("2025-06-01T10:00:00+00:00")
    runner, scheduler = await open_runner(toml, clock)
    await scheduler.tick()
    slow = await runner.start_run("ingest")
    quick = await runner.start_run("ingest", {"fail": "true"})
    await runner.wait_run(quick.id)
    assert await scheduler.tick() == []
    (runner.workspace.root / "go").touch()
    await runner.wait_run(slow.id)
    [run] = await finish(runner, await scheduler.tick())
    assert run.cause and run.cause.upstream_run == slow.id
    assert await scheduler.tick() == []


WATCH = """
[pipelines.watch]
on_change = ["data/*.csv"]
debounce = "10s"

[pipelines.watch.tasks.t]
run = "true"
"""


async def test_on_change_fires_on_new_digests_once_they_settle(
    open_runner: Open, root: Path
) -> None:
    clock = Clock("2025-06-01T10:00:00+00:00")
    data = root / "data"
    data.mkdir(parents=True)
    (data / "old.csv").write_text("a\n1\n")
    runner, scheduler = await open_runner(WATCH, clock)
    await scheduler.tick()  # armed: the files there now are the baseline
    assert await scheduler.tick() == []
    (data / "new.csv").write_text("a\n2\n")
    assert await scheduler.tick() == []  # seen; not settled for 10s yet
    clock.advance(6)
    (data / "new.csv").write_text("a\n2\n3\n")  # still being written: the debounce restarts
    assert await scheduler.tick() == []
    clock.advance(9)
    assert await scheduler.tick() == []
    clock.advance(1)
    [run] = await finish(runner, await scheduler.tick())
    assert run.trigger == "changed data/new.csv"
    assert run.cause and (run.cause.files, run.cause.files_total) == (["data/new.csv"], 1)
    clock.advance(60)
    assert await scheduler.tick() == []
    # A touch, or the same bytes written again, is no change: only a new digest is.
    os.utime(data / "old.csv", (1, 1))
    (data / "new.csv").write_text("a\n2\n3\n")
    assert await scheduler.tick() == []
    clock.advance(60)
    assert await scheduler.tick() == []
    (data / "old.csv").write_text("a\n9\n")
    (data / "third.csv").write_text("b\n")
    (data / "notes.txt").write_text("not watched")
    await scheduler.tick()
    clock.advance(10)
    [run] = await finish(runner, await scheduler.tick())
    assert run.trigger == "changed data/old.csv +1"
    assert run.cause and run.cause.files == ["data/old.csv", "data/third.csv"]
    # A removed file is recorded quietly: bringing it back is a change again.
    (data / "third.csv").unlink()
    clock.advance(60)
    assert await scheduler.tick() == []
    (data / "third.csv").write_text("b\n")
    await scheduler.tick()
    clock.advance(10)
    [run] = await finish(runner, await scheduler.tick())
    assert run.cause and run.cause.files == ["data/third.csv"]


async def test_files_changed_while_the_runner_was_down_fire_once_after_restart(
    open_runner: Open, root: Path
) -> None:
    clock = Clock("2025-06-01T10:00:00+00:00")
    (root / "data").mkdir(parents=True)
    runner, scheduler = await open_runner(WATCH, clock)
    await scheduler.tick()
    await runner.close()
    (root / "data" / "a.csv").write_text("x\n")
    runner, scheduler = await open_runner(None, clock)
    await scheduler.tick()
    clock.advance(10)
    [run] = await finish(runner, await scheduler.tick())
    assert run.cause and run.cause.files == ["data/a.csv"]
    await runner.close()
    runner, scheduler = await open_runner(None, clock)
    clock.advance(60)
    assert await scheduler.tick() == []
    assert await scheduler.tick() == []
    assert run_count(root) == 1


async def test_a_restarted_runner_fires_nothing_twice(open_runner: Open, root: Path) -> None:
    clock = Clock("2025-06-01T10:30:00+00:00")
    runner, scheduler = await open_runner(HOURLY, clock)
    await scheduler.tick()
    clock.set("2025-06-01T11:00:00+00:00")
    [fired] = await finish(runner, await scheduler.tick())
    await runner.close()
    # Restarted at the same moment (a crash right after firing): the slot is taken.
    runner, scheduler = await open_runner(None, clock)
    assert await scheduler.tick() == []
    clock.set("2025-06-01T11:59:59+00:00")
    assert await scheduler.tick() == []
    clock.set("2025-06-01T12:00:00+00:00")
    [later] = await finish(runner, await scheduler.tick())
    assert later.cause and later.cause.due_at == utc("2025-06-01T12:00:00+00:00")
    assert run_count(root) == 2 and later.id == str(int(fired.id) + 1)


async def test_a_second_engine_on_the_same_store_stands_by_and_cannot_fire_a_taken_slot(
    open_runner: Open, root: Path
) -> None:
    clock = Clock("2025-06-01T10:30:00+00:00")
    first, first_scheduler = await open_runner(HOURLY, clock)
    second, second_scheduler = await open_runner(None, clock)
    await first_scheduler.tick()
    assert first_scheduler.active
    assert await second_scheduler.tick() == [] and not second_scheduler.active
    clock.set("2025-06-01T11:00:00+00:00")
    [run] = await finish(first, await first_scheduler.tick())
    assert await second_scheduler.tick() == []
    # Even past the lock, the store refuses the slot: no second run is created.
    trigger = next(t for t in _triggers(second) if t.name == "hourly.every")
    due = datetime(2025, 6, 1, 11, tzinfo=UTC)
    fire = Fire(
        "hourly.every", due.isoformat(), "hourly", due.timestamp(), clock(), due.timestamp()
    )
    assert run.cause is not None
    assert second_scheduler._fire(trigger, fire, run.cause, "every 1h") == []  # nothing started
    assert run_count(root) == 1
    # When the first one stops, the second takes over and fires the next slot.
    await first_scheduler.stop()
    clock.set("2025-06-01T12:00:00+00:00")
    [taken_over] = await finish(second, await second_scheduler.tick())
    assert second_scheduler.active and taken_over.id == str(int(run.id) + 1)
    listed = await second.schedules()
    assert listed.scheduler_pid == os.getpid()


def _triggers(runner: LocalRunner) -> list:  # type: ignore[type-arg]
    from shipdeck.engine.automation.schedules import triggers_of

    return triggers_of(runner.workspace)


async def test_concurrency_applies_to_scheduled_runs(open_runner: Open, root: Path) -> None:
    toml = """
    [pipelines.hourly]
    every = "1h"
    concurrency = 1

    [pipelines.hourly.tasks.t]
    run = "while [ ! -e go ]; do sleep 0.02; done"
    """
    clock = Clock("2025-06-01T10:30:00+00:00")
    runner, scheduler = await open_runner(toml, clock)
    await scheduler.tick()
    clock.set("2025-06-01T11:00:00+00:00")
    [first] = await scheduler.tick()
    clock.set("2025-06-01T12:00:00+00:00")
    [second] = await scheduler.tick()
    assert (await runner.run(second.id)).run.status == RunStatus.QUEUED
    assert (await runner.run(first.id)).run.status in (RunStatus.QUEUED, RunStatus.RUNNING)
    (root / "go").touch()
    done = await finish(runner, [first, second])
    assert [r.status for r in done] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
    assert done[0].finished_at and done[1].started_at
    assert done[1].started_at >= done[0].finished_at


async def test_the_last_good_file_keeps_firing_while_the_file_does_not_load(
    open_runner: Open, root: Path
) -> None:
    clock = Clock("2025-06-01T10:30:00+00:00")
    runner, scheduler = await open_runner(HOURLY, clock)
    await scheduler.tick()
    good = (root / "shipdeck.toml").read_text()
    (root / "shipdeck.toml").write_text(good.replace('"1h"', '"2h"') + "\n[broken\n")
    clock.set("2025-06-01T11:00:00+00:00")
    [run] = await finish(runner, await scheduler.tick())
    assert run.trigger == "every 1h" and run.cause and run.cause.missed == 0  # the good file's
    problems = runner.config_problems()
    assert len(problems) == 1 and "invalid TOML" in problems[0]
    with pytest.raises(WorkspaceError):  # a person's run waits for the file to be fixed
        await runner.start_run("hourly")
    (root / "shipdeck.toml").write_text(good + "\n")
    clock.set("2025-06-01T12:30:00+00:00")
    [run] = await finish(runner, await scheduler.tick())
    assert run.cause and run.cause.missed == 0  # 12:00: nothing was missed meanwhile
    assert runner.config_problems() == []


async def test_a_changed_rule_starts_afresh(open_runner: Open, root: Path) -> None:
    clock = Clock("2025-06-01T10:30:00+00:00")
    runner, scheduler = await open_runner(HOURLY, clock)
    await scheduler.tick()
    clock.set("2025-06-01T12:30:00+00:00")
    (root / "shipdeck.toml").write_text(HOURLY.replace('"1h"', '"2h"'))
    # 11:00 and 12:00 were due under the old rule; the new one counts from now.
    assert await scheduler.tick() == []
    clock.set("2025-06-01T14:00:00+00:00")
    [run] = await finish(runner, await scheduler.tick())
    assert run.trigger == "every 2h"


async def test_a_file_name_cannot_drive_the_terminal(open_runner: Open, root: Path) -> None:
    clock = Clock("2025-06-01T10:00:00+00:00")
    (root / "data").mkdir(parents=True)
    runner, scheduler = await open_runner(WATCH.replace('"10s"', '"0s"'), clock)
    await scheduler.tick()
    (root / "data" / "x\x1b[2J\x07.csv").write_text("1\n")
    [run] = await finish(runner, await scheduler.tick())
    assert run.trigger == "changed data/x?[2J?.csv"
    assert run.cause and run.cause.files == ["data/x\x1b[2J\x07.csv"]  # the data, as it is


def test_a_version_2_store_gains_causes_and_keeps_its_runs(tmp_path: Path) -> None:
    from shipdeck.engine.runs.store import SCHEMA_VERSION, Store
    from shipdeck.model import Run

    path = tmp_path / "shipdeck.db"
    Store(path).close()
    with sqlite3.connect(path) as db:  # as shipdeck wrote it before runs had a cause
        db.execute("ALTER TABLE runs DROP COLUMN cause")
        mark_legacy(db, 2)
        db.execute(
            "INSERT INTO runs (pipeline, status, params, trigger, user, jobs, created_at)"
            " VALUES ('p', 'succeeded', '{}', 'cli', 'ops@host', 1, 0)"
        )
    store = Store(path)
    try:
        old = store.get_run("1")
        assert old is not None and (old.trigger, old.cause) == ("cli", None)
        assert isinstance(old, Run)
    finally:
        store.close()
    assert runs_version(path) == SCHEMA_VERSION == 8
