"""The ends of deploy actions this app started, from the runners' `deploy_finished` events."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict

from shipdeck.model import DeployFinishedEvent, EventPage, HistoryEntry, Outcome
from shipdeck.runners.protocol import Runner

KEPT = 200
"""Ends remembered that nobody waited for yet: one may arrive before its waiter asks."""
CHECK_EVERY = 5.0
"""Seconds between looks at the history while waiting: an end lost with dropped events
(a reset) is found there."""


class ActionEnds:
    def __init__(self) -> None:
        self._ended: OrderedDict[tuple[int, int], HistoryEntry] = OrderedDict()
        self._waiters: dict[tuple[int, int], asyncio.Future[HistoryEntry]] = {}

    def take(self, index: int, page: EventPage) -> None:
        """Note the actions a page of runner `index`'s events says have ended."""
        for event in page.events:
            if not isinstance(event, DeployFinishedEvent):
                continue
            key = (index, event.data.id)
            waiter = self._waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(event.data)
                continue
            self._ended[key] = event.data
            while len(self._ended) > KEPT:
                self._ended.popitem(last=False)

    async def wait(self, index: int, runner: Runner, entry: HistoryEntry) -> HistoryEntry:
        """The entry of an action runner `index` started, once it has ended."""
        key = (index, entry.id)
        loop = asyncio.get_running_loop()
        waiter = self._waiters.setdefault(key, loop.create_future())
        try:
            while True:
                ended = self._ended.pop(key, None) or await _in_history(runner, entry)
                if ended is not None:
                    return ended
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CHECK_EVERY):
                        return await asyncio.shield(waiter)
        finally:
            self._waiters.pop(key, None)


async def _in_history(runner: Runner, entry: HistoryEntry) -> HistoryEntry | None:
    try:
        history = await runner.history(entry.service, entry.env, limit=50)
    except Exception:
        return None  # unreachable for now: the event, or the next look, will tell
    for found in history:
        if found.id == entry.id and found.outcome != Outcome.RUNNING:
            return found
    return None
