"""The event feed: strictly increasing numbers (also across restarts), bounded, resumable."""

from __future__ import annotations

import asyncio
from pathlib import Path

from shipdeck.engine.events import EventFeed
from shipdeck.engine.runs.store import Store
from shipdeck.model import EventKind, Run, RunStatus

from .conftest import Engines, task, workspace


async def test_seq_strictly_increases_across_restarts(tmp_path: Path, engines: Engines) -> None:
    spec = workspace(tmp_path, task("a", "echo hi"), task("b", "echo there", "a"))
    first = engines.open(spec)
    run = await first.wait_run(first.start_run("p", {}).id)
    page = await first.wait_events(0, wait=0)
    seqs = [event.seq for event in page.events]
    assert seqs == sorted(set(seqs)) and len(seqs) > 5
    kinds = {event.kind for event in page.events}
    assert kinds == {EventKind.RUN, EventKind.TASK, EventKind.LOG}
    finished = [e for e in page.events if e.kind == EventKind.RUN][-1]
    assert Run.model_validate(finished.data).status == RunStatus.SUCCEEDED
    assert finished.run_id == run.id
    await first.close()

    second = engines.open(spec)
    # What the first engine handed out is unknown to the second: consumers must refetch.
    stale = await second.wait_events(seqs[-1], wait=0)
    assert stale.reset
    start = second.last_seq()
    assert start > seqs[-1]
    again = await second.wait_run(second.start_run("p", {}).id)
    assert again.id == str(int(run.id) + 1)
    newer = await second.wait_events(start, wait=0)
    assert not newer.reset
    assert newer.events and newer.events[0].seq > seqs[-1]


def test_seq_blocks_survive_a_crash(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    crashed = EventFeed(store.reserve_seq_block, block=10)
    handed_out = [crashed.publish(EventKind.LOG, {}) for _ in range(15)]
    # No shutdown: the next feed must still start above everything handed out.
    restarted = EventFeed(store.reserve_seq_block, block=10)
    assert restarted.publish(EventKind.LOG, {}) > max(handed_out)
    store.close()


def test_reset_when_events_were_dropped_or_unknown(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    feed = EventFeed(store.reserve_seq_block, ring_size=5)
    floor = feed.last_seq
    seqs = [feed.publish(EventKind.LOG, {"i": i}) for i in range(8)]
    assert feed.page(floor, 100).reset  # the first three fell out of the ring
    assert feed.page(seqs[1], 100).reset
    kept = feed.page(seqs[2], 100)
    assert not kept.reset and [e.seq for e in kept.events] == seqs[3:]
    assert kept.last_seq == seqs[-1]
    assert feed.page(seqs[-1] + 1, 100).reset  # from the future: unknown
    limited = feed.page(seqs[4], 2)
    assert [e.seq for e in limited.events] == seqs[5:7] and limited.last_seq == seqs[6]
    caught_up = feed.page(seqs[-1], 100)
    assert (caught_up.events, caught_up.reset, caught_up.last_seq) == ([], False, seqs[-1])
    store.close()


async def test_waiters_wake_on_publish_and_time_out_quietly(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    feed = EventFeed(store.reserve_seq_block)
    start = feed.last_seq
    waiter = asyncio.create_task(feed.wait(start, wait=10, limit=10))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    published = feed.publish(EventKind.LOG, {"text": "hello"})
    page = await asyncio.wait_for(waiter, timeout=2)
    assert [e.seq for e in page.events] == [published]
    empty = await feed.wait(published, wait=0.05, limit=10)
    assert (empty.events, empty.reset, empty.last_seq) == ([], False, published)
    store.close()
