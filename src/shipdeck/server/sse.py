"""The live event stream as Server-Sent Events.

Frames:
- `event: events`, `id: <seq of the last event>`, `data: [<Event>, ...]`: a batch, oldest first.
  Batching keeps one write (and one JSON parse on the client) per page instead of per event.
- `event: reset`, `id: <seq>`, `data: {"last_seq": <seq>}`: events were dropped (the client fell
  too far behind, or the runner pruned them); refetch state, then continue after <seq>.
- `: heartbeat` comments when nothing happened for a while, so dead connections surface.

Nothing is buffered per client beyond the one page in flight: the stream reads from the runner
only as fast as the client takes the bytes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

from pydantic_core import PydanticSerializationError

from shipdeck.model import Event, EventPage
from shipdeck.model.events import EVENT_LIST
from shipdeck.model.text import repaired
from shipdeck.runners.protocol import Runner

T = TypeVar("T")


@dataclass(frozen=True)
class StreamSettings:
    heartbeat: float = 15.0
    """Seconds of silence before a heartbeat comment."""
    page_limit: int = 2000
    """Most events in one frame (and in memory for one client)."""
    max_lag: int = 100_000
    """A client this many events behind the newest gets a reset instead of the backlog."""
    retry_ms: int = 1000
    """Reconnect delay suggested to browser-style clients."""


def events_frame(events: list[Event], last_seq: int) -> bytes:
    try:
        data = EVENT_LIST.dump_json(events)
    except PydanticSerializationError:
        # Text UTF-8 cannot carry (a lone surrogate): sent repaired, so one bad event does not
        # end the stream of every client that follows it.
        plain = repaired(EVENT_LIST.dump_python(events, mode="json"))
        data = json.dumps(plain, separators=(",", ":")).encode()
    return b"id: %d\nevent: events\ndata: %s\n\n" % (last_seq, data)


def reset_frame(last_seq: int) -> bytes:
    data = json.dumps({"last_seq": last_seq}).encode()
    return b"id: %d\nevent: reset\ndata: %s\n\n" % (last_seq, data)


async def unless_stopped(work: Awaitable[T], stopping: asyncio.Event) -> tuple[bool, T | None]:
    """Await `work`; give up (and cancel it) if `stopping` is set first, or if this wait is
    itself cancelled (a timeout around it, the client gone): `work` never outlives it."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        stopper.cancel()
    if task.done():
        return True, task.result()
    task.cancel()
    return False, None


async def event_frames(
    runner: Runner, after: int, settings: StreamSettings, stopping: asyncio.Event
) -> AsyncIterator[bytes]:
    yield b"retry: %d\n: connected\n\n" % settings.retry_ms
    while not stopping.is_set():
        # Ask without waiting first: under load a page is ready and no helper tasks are needed.
        page = await runner.wait_events(after, wait=0, limit=settings.page_limit)
        if not page.events and not page.reset:
            finished, waited = await unless_stopped(
                runner.wait_events(after, wait=settings.heartbeat, limit=settings.page_limit),
                stopping,
            )
            if not finished or waited is None:
                return
            page = waited
        frame, after = await _next_frame(runner, page, after, settings)
        yield frame


async def _next_frame(
    runner: Runner, page: EventPage, after: int, settings: StreamSettings
) -> tuple[bytes, int]:
    if page.reset:
        return reset_frame(page.last_seq), page.last_seq
    if not page.events:
        return b": heartbeat\n\n", max(after, page.last_seq)
    last = page.events[-1].seq
    frame = events_frame(page.events, last)
    if len(page.events) >= settings.page_limit:
        newest = await runner.last_seq()
        if newest - last > settings.max_lag:
            # Too far behind to catch up usefully: skip to the present, tell the client.
            return frame + reset_frame(newest), newest
    return frame, last
