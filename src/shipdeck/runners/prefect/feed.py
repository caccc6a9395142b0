"""The runner's own event sequence: what the poller saw change, numbered, for `wait_events`.

Prefect has no sequence shipdeck could resume from, so the runner numbers what it observes
itself. A bounded buffer: a client further behind than it holds gets `reset` (refetch state),
as does one whose `after` this feed never issued (another process's number), and every client
after the poller lost the server for a while (changes in between were not seen).
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime
from typing import Any

from shipdeck.model import EventPage
from shipdeck.model.events import EVENT_TYPES, EventKind

KEEP = 20_000


class Feed:
    def __init__(self, keep: int = KEEP) -> None:
        self._events: deque[Any] = deque(maxlen=keep)
        self.seq = 0
        self._reset_at = 0
        """The newest seq after which the poller lost track (clients before it reset)."""
        self._changed = asyncio.Event()

    def publish(
        self, kind: EventKind, data: Any, *, run_id: str | None = None, task: str | None = None
    ) -> None:
        self.seq += 1
        event_type = EVENT_TYPES[kind]
        self._events.append(
            event_type(seq=self.seq, ts=datetime.now(UTC), run_id=run_id, task=task, data=data)
        )
        self._wake()

    def lost_track(self) -> None:
        """Changes may have been missed (the server was unreachable): clients refetch."""
        self.seq += 1
        self._reset_at = self.seq
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def page(self, after: int, limit: int) -> EventPage | None:
        if after > self.seq or after < self._reset_at:
            return EventPage(events=[], last_seq=self.seq, reset=True)
        oldest = self._events[0].seq if self._events else self.seq + 1
        if after < oldest - 1:
            return EventPage(events=[], last_seq=self.seq, reset=True)
        events = [event for event in self._events if event.seq > after][:limit]
        if not events:
            return None
        return EventPage(events=events, last_seq=events[-1].seq)

    async def wait(self, after: int, *, wait: float, limit: int) -> EventPage:
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            page = self.page(after, limit)
            if page is not None:
                return page
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return EventPage(events=[], last_seq=after)
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), left)
            except TimeoutError:
                continue
