"""The schedules half of the contract, in process and over HTTP (TCP, Unix socket): listing,
pause and resume (recorded, with who), the schedule-fired event on the event stream, and a
run's cause. The runner behind them fires with a test clock."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipdeck.engine.automation.scheduler import Scheduler
from shipdeck.errors import NotFound, Refused
from shipdeck.model import EventKind, RunStatus, TriggerKind, WorkspaceSpec
from shipdeck.model.capabilities import Capabilities, Capability
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.runners.protocol import Runner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.workspace import load_workspace
from tests.contract.harness import WORKSPACE_FILE, needs, open_read_only

WORKSPACE = """
[pipelines.ingest]
every = "1h"

[pipelines.ingest.tasks.fetch]
run = "echo fetching"

[pipelines.retrain]
schedule = "0 3 * * 1-5"
timezone = "Europe/Berlin"
on_success = ["ingest"]

[pipelines.retrain.tasks.train]
run = "echo training"

[pipelines.plain]
[pipelines.plain.tasks.t]
run = "true"
"""


pytestmark = [WORKSPACE_FILE, needs(Capability.SCHEDULES)]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 6, 2, 9, 30, tzinfo=UTC).timestamp()  # a Monday

    def __call__(self) -> float:
        return self.now


@dataclass
class Deck:
    runner: Runner
    local: LocalRunner
    scheduler: Scheduler
    clock: Clock


@pytest.fixture
def contract_seed(tmp_path: Path) -> WorkspaceSpec:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    return load_workspace(root)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def contract_backend(
    contract_seed: WorkspaceSpec, clock: Clock
) -> AsyncIterator[LocalRunner]:
    """The engine's runner, firing its schedules with the test clock."""
    local = await open_local_runner(contract_seed, user="ops@host")
    local.start_scheduling(clock=clock)
    try:
        yield local
    finally:
        await local.close()


@pytest.fixture
def deck(contract_runner: Runner, contract_backend: LocalRunner, clock: Clock) -> Deck:
    return Deck(contract_runner, contract_backend, contract_backend.start_scheduling(), clock)


async def test_schedules_are_listed_with_next_fire_and_who_fires_them(deck: Deck) -> None:
    await deck.scheduler.tick()
    listed = await deck.runner.schedules()
    assert [(s.name, s.kind, s.rule) for s in listed.schedules] == [
        ("ingest.every", TriggerKind.EVERY, "every 1h"),
        ("retrain.schedule", TriggerKind.SCHEDULE, "0 3 * * 1-5 (Europe/Berlin)"),
        ("retrain.on_success", TriggerKind.ON_SUCCESS, "after ingest"),
    ]
    every, cron, after = listed.schedules
    assert every.next_at == datetime(2025, 6, 2, 10, tzinfo=UTC)
    assert cron.next_at == datetime(2025, 6, 3, 1, tzinfo=UTC)  # 03:00 CEST on Tuesday
    assert (cron.timezone, cron.explained) == (
        "Europe/Berlin",
        "At 03:00 on Monday through Friday (Europe/Berlin)",
    )
    assert after.next_at is None and not after.paused and after.last_run is None
    assert listed.scheduler_pid is not None  # this test process holds the scheduler lock


async def test_pause_and_resume_with_who(deck: Deck) -> None:
    action = await deck.runner.pause_schedule("retrain", reason="new features")
    assert (action.name, action.action, action.user, action.reason) == (
        "retrain",
        "pause",
        "ops@host",
        "new features",
    )
    listed = {s.name: s for s in (await deck.runner.schedules()).schedules}
    for name in ("retrain.schedule", "retrain.on_success"):
        assert listed[name].paused and listed[name].paused_as == "retrain"
        assert listed[name].paused_by == "ops@host"
    assert not listed["ingest.every"].paused
    with pytest.raises(Refused, match="retrain is paused already"):
        await deck.runner.pause_schedule("retrain")
    with pytest.raises(NotFound, match="no schedule or trigger 'plain'"):
        await deck.runner.pause_schedule("plain")
    resumed = await deck.runner.resume_schedule("retrain")
    assert (resumed.action, resumed.user) == ("resume", "ops@host")
    assert not any(s.paused for s in (await deck.runner.schedules()).schedules)
    with pytest.raises(Refused, match="retrain is not paused"):
        await deck.runner.resume_schedule("retrain")


async def test_a_fired_schedule_flows_through_the_event_stream(deck: Deck) -> None:
    await deck.scheduler.tick()
    after = await deck.runner.last_seq()
    await deck.runner.wait_events(after, wait=0)  # remote: start following from here
    deck.clock.now = datetime(2025, 6, 2, 10, tzinfo=UTC).timestamp()
    [run] = await deck.scheduler.tick()
    fired = []
    position = after
    for _ in range(50):
        page = await deck.runner.wait_events(position, wait=5)
        position = page.last_seq
        fired += [e for e in page.events if e.kind == EventKind.SCHEDULE_FIRED]
        if fired:
            break
    assert [(e.run_id, e.data.schedule, e.data.trigger) for e in fired] == [  # type: ignore[union-attr]
        (run.id, "ingest.every", "every 1h")
    ]
    done = await deck.runner.wait_run(run.id)
    assert done.status == RunStatus.SUCCEEDED
    [listed] = await deck.runner.runs(pipeline="ingest")
    assert listed.trigger == "every 1h"
    assert listed.cause is not None and listed.cause.kind == TriggerKind.EVERY
    assert listed.cause.due_at == datetime(2025, 6, 2, 10, tzinfo=UTC)
    # ... and its success starts retrain, which says so.
    [downstream] = await deck.scheduler.tick()
    detail = await deck.runner.run(downstream.id)
    assert detail.run.trigger == f"after ingest #{run.id}"
    assert detail.run.cause is not None and detail.run.cause.upstream_run == run.id
    ingest = {s.name: s for s in (await deck.runner.schedules()).schedules}["ingest.every"]
    assert ingest.last_run == run.id and ingest.last_status == RunStatus.SUCCEEDED
    await deck.runner.wait_run(downstream.id)


async def test_capabilities_declare_schedules(deck: Deck) -> None:
    assert Capability.SCHEDULES in (await deck.runner.capabilities()).can
    if isinstance(deck.runner, RemoteRunner):  # as /v1/health declares them
        declared = (await deck.runner.info()).capabilities
        assert isinstance(declared, Capabilities) and Capability.SCHEDULES in declared.can


async def test_a_read_only_client_cannot_pause(deck: Deck, monkeypatch: pytest.MonkeyPatch) -> None:
    if not isinstance(deck.runner, RemoteRunner):
        return
    viewer = open_read_only(deck.runner.url, monkeypatch)
    try:
        with pytest.raises(Refused, match="read-only"):
            await viewer.pause_schedule("ingest")
        assert (await viewer.schedules()).schedules[0].name == "ingest.every"
    finally:
        await viewer.close()
