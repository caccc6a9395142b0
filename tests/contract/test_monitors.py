"""The monitors half of the contract, in process and over HTTP (TCP, Unix socket): listing,
a check run on request and judged, its history, alerts and their acknowledgement (recorded
with who), the new event kinds on the resumable stream, and the capability."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shipdeck.errors import InvalidInput, NotFound, Refused
from shipdeck.model import (
    AlertAcknowledgedEvent,
    AlertOpenedEvent,
    CheckFinishedEvent,
    Event,
    Verdict,
    WorkspaceSpec,
)
from shipdeck.model.capabilities import Capabilities, Capability
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.runners.protocol import Runner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.workspace import load_workspace
from tests.contract.harness import WORKSPACE_FILE, needs, open_read_only

WORKSPACE = """
[pipelines.retrain]
[pipelines.retrain.tasks.train]
run = "echo training"

[monitors.drift]
description = "scoring data against the training data"
run = "echo \\"::metric drift_share=$(cat value)\\""
thresholds = ["drift_share >= 0.5"]
"""


pytestmark = [WORKSPACE_FILE, needs(Capability.MONITORS)]


@dataclass
class Deck:
    runner: Runner
    local: LocalRunner
    root: Path

    def value(self, value: float) -> None:
        (self.root / "value").write_text(f"{value}\n")


@pytest.fixture
def contract_seed(tmp_path: Path) -> WorkspaceSpec:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    return load_workspace(root)


@pytest.fixture
async def contract_backend(contract_seed: WorkspaceSpec) -> AsyncIterator[LocalRunner]:
    local = await open_local_runner(contract_seed, user="ops@host")
    try:
        yield local
    finally:
        await local.close()


@pytest.fixture
def deck(contract_runner: Runner, contract_backend: LocalRunner) -> Deck:
    return Deck(contract_runner, contract_backend, contract_backend.workspace.root)


async def collect(runner: Runner, after: int, count: int) -> list[Event]:
    wanted = (CheckFinishedEvent, AlertOpenedEvent, AlertAcknowledgedEvent)
    found: list[Event] = []
    for _ in range(50):
        page = await runner.wait_events(after, wait=5)
        after = page.last_seq
        found += [event for event in page.events if isinstance(event, wanted)]
        if len(found) >= count:
            break
    return found


async def test_check_alert_and_acknowledge_over_the_contract(deck: Deck) -> None:
    [info] = await deck.runner.monitors()
    assert (info.name, info.rule, info.state, info.thresholds) == (
        "drift",
        "manual",
        None,
        ["drift_share >= 0.5"],
    )
    after = await deck.runner.last_seq()
    await deck.runner.wait_events(after, wait=0)  # remote: start following from here
    deck.value(0.8)
    check = await deck.runner.check_monitor("drift")
    assert (check.verdict, check.values, check.user) == (
        Verdict.ALERTING,
        {"drift_share": 0.8},
        "ops@host",
    )
    [alert] = await deck.runner.alerts(open_only=True)
    assert (alert.monitor, alert.threshold, alert.value) == ("drift", "drift_share >= 0.5", 0.8)
    [info] = await deck.runner.monitors()
    assert (info.state, info.open_alerts, info.recent) == (Verdict.ALERTING, 1, [0.8])
    with pytest.raises(InvalidInput, match="control character"):
        await deck.runner.ack_alert(alert.id, note="seen\x07")
    acked = await deck.runner.ack_alert(alert.id, note="retraining on new data")
    assert (acked.acked_by, acked.ack_note) == ("ops@host", "retraining on new data")
    with pytest.raises(Refused, match="acknowledged already"):
        await deck.runner.ack_alert(alert.id, note="again")
    with pytest.raises(NotFound):
        await deck.runner.ack_alert(alert.id + 100, note="x")
    events = await collect(deck.runner, after, 3)
    assert [type(e) for e in events] == [
        CheckFinishedEvent,
        AlertOpenedEvent,
        AlertAcknowledgedEvent,
    ]
    assert events[0].run_id == check.run_id
    deck.value(0.1)
    await deck.runner.check_monitor("drift")
    assert await deck.runner.alerts(open_only=True) == []
    [closed] = await deck.runner.alerts()
    assert closed.closed_value == 0.1 and closed.acked_by == "ops@host"
    history = await deck.runner.monitor_history("drift", limit=1)
    assert [c.verdict for c in history] == [Verdict.OK]
    with pytest.raises(NotFound, match="no monitor 'nope'"):
        await deck.runner.monitor_history("nope")
    with pytest.raises(NotFound, match="no monitor 'nope'"):
        await deck.runner.check_monitor("nope")


async def test_a_check_not_waited_for_answers_running(deck: Deck) -> None:
    deck.value(0.2)
    check = await deck.runner.check_monitor("drift", wait=False)
    assert check.verdict == Verdict.RUNNING
    await deck.runner.wait_run(check.run_id)
    [found] = await deck.runner.monitor_history("drift")
    assert (found.id, found.verdict) == (check.id, Verdict.OK)


async def test_health_declares_monitors_and_read_only_clients_cannot_act(
    deck: Deck, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Capability.MONITORS in (await deck.runner.capabilities()).can
    if not isinstance(deck.runner, RemoteRunner):
        return
    declared = (await deck.runner.info()).capabilities
    assert isinstance(declared, Capabilities) and Capability.MONITORS in declared.can
    viewer = open_read_only(deck.runner.url, monkeypatch)
    try:
        with pytest.raises(Refused, match="read-only"):
            await viewer.check_monitor("drift")
        with pytest.raises(Refused, match="read-only"):
            await viewer.ack_alert(1, note="x")
        assert [m.name for m in await viewer.monitors()] == ["drift"]
    finally:
        await viewer.close()
