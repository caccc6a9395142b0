"""The event feed: numbered changes in a bounded in-memory ring, with waiters woken on publish.

Sequence numbers come from blocks reserved in the store's meta table, so a restarted (or a
second) engine process always numbers above anything handed out before. Events older than the
ring, or from before this process started, are gone: asking for them returns `reset=True`.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel

from shipdeck.model import Event, EventKind, EventPage
from shipdeck.model.events import EVENT_TYPES, trusted

SEQ_BLOCK = 10_000
RING_SIZE = 100_000

_Stored = tuple[int, float, EventKind, str | None, str | None, BaseModel]


def _seq(stored: _Stored) -> int:
    return stored[0]


def _event(stored: _Stored) -> Event:
    seq, ts, kind, run_id, task, data = stored
    moment = datetime.fromtimestamp(ts, UTC)
    # The payload is the publisher's own model: nothing to validate again.
    event = trusted(
        EVENT_TYPES[kind], seq=seq, ts=moment, kind=kind, run_id=run_id, task=task, data=data
    )
    return event  # type: ignore[return-value]


class EventFeed:
    def __init__(
        self,
        reserve_block: Callable[[int], int],
        *,
        ring_size: int = RING_SIZE,
        block: int = SEQ_BLOCK,
    ) -> None:
        self._reserve_block = reserve_block
        self._block = block
        self._next = reserve_block(block)
        self._block_end = self._next + block
        # Plain tuples (seq, ts, kind, run_id, task, payload): Event models are built only for
        # the events someone reads, which keeps a 10,000-lines/s task cheap to publish.
        self._ring: deque[_Stored] = deque(maxlen=ring_size)
        self._floor = self._next - 1
        """Every event this process published with seq > floor is still in the ring."""
        self._last = self._floor
        self._changed = asyncio.Event()

    @property
    def last_seq(self) -> int:
        return self._last

    def publish(
        self,
        kind: EventKind,
        data: BaseModel,
        *,
        run_id: str | None = None,
        task: str | None = None,
        ts: float | None = None,
    ) -> int:
        """Number and keep one event; returns its sequence number. `data` is the payload model
        of `kind` (see shipdeck.model.events)."""
        if self._next >= self._block_end:
            self._next = self._reserve_block(self._block)
            self._block_end = self._next + self._block
        seq = self._next
        self._next += 1
        if len(self._ring) == self._ring.maxlen:
            self._floor = self._ring[0][0]
        self._ring.append((seq, time.time() if ts is None else ts, kind, run_id, task, data))
        self._last = seq
        self._changed.set()
        return seq

    def page(self, after: int, limit: int) -> EventPage:
        """Events with seq > after, without waiting."""
        if after < self._floor or after > self._last:
            return EventPage(events=[], last_seq=self._last, reset=True)
        start = bisect.bisect_right(self._ring, after, key=_seq)
        end = min(len(self._ring), start + max(1, limit))
        events = [_event(self._ring[i]) for i in range(start, end)]
        last = events[-1].seq if events else after
        return EventPage(events=events, last_seq=last)

    async def wait(self, after: int, *, wait: float, limit: int) -> EventPage:
        page = self.page(after, limit)
        if page.events or page.reset or wait <= 0:
            return page
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return page
            self._changed.clear()
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
            except TimeoutError:
                return self.page(after, limit)
            page = self.page(after, limit)
            if page.events or page.reset:
                return page
