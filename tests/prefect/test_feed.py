"""The prefect runner's own event sequence: pages after a number, waiting for the next event,
and `reset` for a client it cannot serve (too far behind, a number it never issued, or after
the poller lost the server for a while)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from shipdeck.model import LogEvent
from shipdeck.model.events import EventKind, LogData
from shipdeck.runners.prefect.feed import Feed


def line(n: int) -> LogData:
    return LogData(n=n, text=f"line {n}", ts=datetime.now(UTC).isoformat())


async def test_pages_waits_and_resets() -> None:
    feed = Feed(keep=3)
    assert (await feed.wait(0, wait=0.05, limit=10)).events == []
    for n in range(2):
        feed.publish(EventKind.LOG, line(n), run_id="a1", task="flow")
    page = await feed.wait(0, wait=1.0, limit=1)
    assert [(e.seq, e.run_id, e.task) for e in page.events] == [(1, "a1", "flow")]
    assert isinstance(page.events[0], LogEvent) and page.last_seq == 1

    waiting = asyncio.ensure_future(feed.wait(2, wait=5.0, limit=10))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    feed.publish(EventKind.LOG, line(2), run_id="a1", task="flow")
    assert [e.seq for e in (await waiting).events] == [3]

    feed.publish(EventKind.LOG, line(3), run_id="a1", task="flow")
    feed.publish(EventKind.LOG, line(4), run_id="a1", task="flow")
    assert (await feed.wait(0, wait=0.1, limit=10)).reset  # seq 1 and 2 were dropped
    assert not (await feed.wait(2, wait=0.1, limit=10)).reset
    assert (await feed.wait(99, wait=0.1, limit=10)).reset  # never issued here

    feed.lost_track()
    lost = await feed.wait(5, wait=0.1, limit=10)
    assert lost.reset and lost.last_seq == 6
    assert (await feed.wait(lost.last_seq, wait=0.05, limit=10)).events == []
