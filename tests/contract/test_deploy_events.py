"""The event kinds of the registry and of deployments, as every kind of runner delivers them."""

from __future__ import annotations

from pathlib import Path

from shipdeck.model import (
    AliasMovedEvent,
    DeployFinishedEvent,
    DeployStartedEvent,
    Event,
    HealthChangedEvent,
    Outcome,
    VersionRegisteredEvent,
)
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner
from tests.contract.harness import EVENTS, WORKSPACE_FILE, needs
from tests.contract.test_deployments import contract_seed, deck, finished

__all__ = ["contract_seed", "deck"]

pytestmark = EVENTS


async def events_after(runner: Runner, after: int) -> list[Event]:
    """Every event after `after` that the runner has published by now."""
    events: list[Event] = []
    while True:
        page = await runner.wait_events(after, wait=0.5)
        assert not page.reset
        if not page.events:
            return events
        events += page.events
        after = page.last_seq


@needs(Capability.TRIGGER_PARAMS, Capability.MODELS, Capability.ALIASES)
async def test_a_registered_version_and_a_moved_alias_are_events(deck: Runner) -> None:
    after = await deck.last_seq()
    run_id = await finished(deck, "train", {"auc": "0.85"})
    move = await deck.alias("churn", "champion", "v1")
    events = await events_after(deck, after)
    registered = [e for e in events if isinstance(e, VersionRegisteredEvent)]
    assert [(e.run_id, e.data.model, e.data.version) for e in registered] == [
        (run_id, "churn", "1")
    ]
    moved = [e.data for e in events if isinstance(e, AliasMovedEvent)]
    assert moved == [move]


@WORKSPACE_FILE
@needs(Capability.TRIGGER_PARAMS, Capability.DEPLOYMENTS)
async def test_a_deploy_says_when_it_started_with_its_run_and_how_it_finished(
    deck: Runner, tmp_path: Path
) -> None:
    build = await finished(deck, "build", {"version": "3"})
    after = await deck.last_seq()
    entry = await deck.deploy("api", f"r{build}", "dev", expect="none", reason="first")
    events = await events_after(deck, after)
    started = [e for e in events if isinstance(e, DeployStartedEvent)]
    assert [(e.run_id, e.data.id, e.data.outcome) for e in started] == [
        (entry.run_id, entry.id, Outcome.RUNNING)
    ]
    ended = [e for e in events if isinstance(e, DeployFinishedEvent)]
    assert [e.data for e in ended] == [entry]
    assert events.index(started[0]) < events.index(ended[0])
    health = [e.data for e in events if isinstance(e, HealthChangedEvent)]
    assert [(h.service, h.env, h.revision, h.health, h.previous) for h in health] == [
        ("api", "dev", f"r{build}", "passed", None)
    ]

    # The same result for the same revision again is no change of health.
    after = await deck.last_seq()
    again = await deck.deploy("api", f"r{build}", "dev", reason="again")
    events = await events_after(deck, after)
    assert [e.data for e in events if isinstance(e, DeployFinishedEvent)] == [again]
    assert not [e for e in events if isinstance(e, HealthChangedEvent)]

    # A failing health check is.
    (tmp_path / "ws" / "fail_health").touch()
    after = await deck.last_seq()
    failed = await deck.deploy("api", f"r{build}", "dev", reason="broken")
    assert failed.outcome == Outcome.FAILED
    events = await events_after(deck, after)
    health = [e.data for e in events if isinstance(e, HealthChangedEvent)]
    assert [(h.health, h.previous) for h in health] == [("failed", "passed")]


@WORKSPACE_FILE
@needs(Capability.TRIGGER_PARAMS, Capability.DEPLOYMENTS, Capability.CANCEL)
async def test_an_action_answers_once_its_run_has_started_and_ends_as_an_event(
    deck: Runner, tmp_path: Path
) -> None:
    """With wait=False the request does not last as long as the deploy: the entry comes back
    in flight, and its end arrives on the feed."""
    build = await finished(deck, "build", {"version": "3"})
    (tmp_path / "ws" / "slow_deploy").touch()  # the deploy command sleeps 30 s
    after = await deck.last_seq()
    entry = await deck.deploy("api", f"r{build}", "dev", reason="slow", wait=False)
    assert entry.outcome == Outcome.RUNNING and entry.run_id is not None
    run = await deck.run(entry.run_id)
    assert not run.run.status.finished
    [state] = [s for s in await deck.deployments() if (s.service, s.env) == ("api", "dev")]
    assert state.in_flight is not None and state.in_flight.id == entry.id
    await deck.cancel(entry.run_id)
    ended: list[DeployFinishedEvent] = []
    while not ended:
        page = await deck.wait_events(after, wait=10)
        assert page.events, "no deploy_finished event"
        after = page.last_seq
        ended = [e for e in page.events if isinstance(e, DeployFinishedEvent)]
    assert [(e.data.id, e.data.outcome) for e in ended] == [(entry.id, Outcome.FAILED)]
    assert (await deck.history("api", "dev"))[0] == ended[0].data
