"""Resume: cut the connection while events flow; the client sees each event exactly once."""

from __future__ import annotations

import asyncio
import time

from shipdeck.model import Event, EventKind, RunStatus
from shipdeck.runners.event_follower import Backoff, LinkState, LinkStatus
from shipdeck.runners.local import LocalRunner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.server import RunningServer
from tests.server.conftest import TOKEN
from tests.server.proxy import CuttableProxy


async def all_events_after(runner: LocalRunner, after: int) -> list[Event]:
    events: list[Event] = []
    while True:
        page = await runner.wait_events(after, wait=0)
        assert not page.reset
        if not page.events:
            return events
        events.extend(page.events)
        after = page.last_seq


def finishes(event: Event, run_id: str) -> bool:
    return (
        event.kind == EventKind.RUN
        and event.run_id == run_id
        and RunStatus(event.data.status).finished
    )


async def test_cut_for_two_seconds_loses_and_repeats_nothing(
    local_runner: LocalRunner, tcp_server: RunningServer
) -> None:
    port = int(tcp_server.url.rsplit(":", 1)[1])
    proxy = CuttableProxy("127.0.0.1", port)
    await proxy.start()
    states: list[LinkState] = []
    client = RemoteRunner(proxy.url, token=TOKEN, backoff=Backoff(initial=0.05, cap=0.3))
    client.on_state(states.append)
    try:
        start = await client.last_seq()
        # About 500 lines a second for about 4 seconds.
        run = await client.start_run("chatty", {"lines": "2000", "delay": "0.002"})
        received: list[Event] = []
        after = start
        cut_done = False
        deadline = time.monotonic() + 60
        while not any(finishes(event, run.id) for event in received[-5:]):
            assert time.monotonic() < deadline, "run did not finish over the proxy"
            page = await client.wait_events(after, wait=1)
            assert not page.reset
            received.extend(page.events)
            after = page.last_seq
            if not cut_done and len(received) > 300:
                cut_done = True
                await proxy.cut()
                emitted_at_cut = local_runner.engine.last_seq()
                await asyncio.sleep(2)  # the outage itself, not a wait for a result
                assert local_runner.engine.last_seq() - emitted_at_cut > 500
                await proxy.start()
        emitted = await all_events_after(local_runner, start)
        assert [e.seq for e in received] == [e.seq for e in emitted]
        assert received == emitted
        statuses = [state.status for state in states]
        assert LinkStatus.RECONNECTING in statuses
        assert statuses[-1] == LinkStatus.LIVE
        assert max(state.attempt for state in states) >= 1
        assert proxy.connections >= 2
    finally:
        await client.close()
        await proxy.close()
