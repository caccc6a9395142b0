"""A dialog's action ends with its deploy_finished event, whenever that arrives, and is found
in the history when the event was lost."""

from __future__ import annotations

import asyncio

from shipdeck.model import DeployFinishedEvent, EventPage, Outcome
from shipdeck.tui.action_ends import ActionEnds
from tests.tui.deck import Deck


async def test_an_end_that_arrived_before_anyone_waited_is_kept(deck: Deck) -> None:
    after = await deck.runner.last_seq()
    entry = await deck.runner.deploy("api", "r1", "dev", reason="early", wait=False)
    assert entry.outcome == Outcome.RUNNING
    ends = ActionEnds()
    seen: list[DeployFinishedEvent] = []
    while not seen:
        page = await deck.runner.wait_events(after, wait=10)
        assert page.events, "no deploy_finished event"
        after = page.last_seq
        ends.take(0, page)
        seen = [e for e in page.events if isinstance(e, DeployFinishedEvent)]
    ended = await asyncio.wait_for(ends.wait(0, deck.runner, entry), 1)
    assert ended == seen[0].data and ended.outcome == Outcome.SUCCEEDED


async def test_a_waiter_gets_the_end_from_the_event_or_from_the_history(deck: Deck) -> None:
    entry = await deck.runner.deploy("api", "r1", "dev", reason="later", wait=False)
    ends = ActionEnds()
    # No events are handed over at all (as if they were dropped): the history tells.
    ended = await asyncio.wait_for(ends.wait(0, deck.runner, entry), 30)
    assert (ended.id, ended.outcome) == (entry.id, Outcome.SUCCEEDED)

    (deck.workspace.root / "slow_deploy").touch()  # in flight for 30 s: the event comes first
    second = await deck.runner.deploy("api", "r1", "dev", reason="again", wait=False)
    waiting = asyncio.ensure_future(ends.wait(1, deck.runner, second))
    await asyncio.sleep(0.05)
    finished = second.model_copy(update={"outcome": Outcome.FAILED, "detail": "from the event"})
    event = DeployFinishedEvent(seq=1, ts=second.at, run_id=second.run_id, data=finished)
    ends.take(1, EventPage(events=[event], last_seq=1))
    assert (await asyncio.wait_for(waiting, 1)).detail == "from the event"
    assert second.run_id is not None
    await deck.runner.cancel(second.run_id)
