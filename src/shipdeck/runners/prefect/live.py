"""Live log records from a Prefect server's `/api/logs/out` websocket, for the runs watched.

A Prefect 3.9 server sends each log record it stores to the subscribers of that socket when
it runs with `PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED` and
`PREFECT_SERVER_LOGS_STREAM_PUBLISHING_ENABLED` (without the second it accepts and sends
nothing). The protocol, as Prefect's own `PrefectLogsSubscriber` speaks it: the `prefect`
subprotocol, an `{"type": "auth", "token": ...}` message answered by `auth_success`, then one
`{"type": "filter", "filter": LogFilter}` message, after which the server sends
`{"type": "log", "log": Log}` for every record that matches, with no backfill.

So the socket only ever adds speed: every record is still read by the poll, which fills what
the socket missed (before it subscribed, while it reconnected, a server that does not
publish). Records that arrive before the poll that follows a subscription are held, and handed
on after it (the store drops those it already has): a line the socket brings is never
numbered before an older one only the poll could bring. A socket refused or closed is tried
again after RETRY seconds, growing; nothing is reported (the poll goes on).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable

from shipdeck.background import stop_task
from shipdeck.errors import ShipdeckError
from shipdeck.runners.prefect.api import LogLine as Record

RETRY = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Seconds before connecting again after the n-th failure in a row (the last repeats)."""
IDLE = 30.0
"""Seconds without `watch` after which the socket is closed (nobody follows logs)."""
OPEN_TIMEOUT = 5.0
SUBSCRIBED = 0.2
"""Seconds after the filter is sent before the server is taken to have subscribed (it does
not acknowledge the filter)."""


def socket_url(api_url: str) -> str:
    """`http(s)://HOST/api` -> `ws(s)://HOST/api/logs/out`."""
    base = api_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + "/logs/out"
    return "ws://" + base.removeprefix("http://") + "/logs/out"


class LiveLogs:
    """One subscription to `/logs/out` for the flow runs being watched, opened and reopened
    as that set changes. `sync(ids)` is awaited once a subscription is in place (a poll of
    those runs' logs); `received(record)` is told each record after it."""

    def __init__(
        self,
        api_url: str,
        *,
        token: str | None,
        headers: dict[str, str],
        sync: Callable[[frozenset[str]], Awaitable[None]],
        received: Callable[[Record], None],
        idle: float = IDLE,
    ) -> None:
        self.url = socket_url(api_url)
        self.token, self.headers = token, headers
        self.sync, self.received, self.idle = sync, received, idle
        self.watched: frozenset[str] = frozenset()
        self._watched_at = time.monotonic()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.live = False
        """Whether records are handed on as they come (subscribed, and synced by a poll)."""
        self.failures = 0

    def watch(self, run_ids: set[str]) -> None:
        """Follow these runs' records (none: close the socket)."""
        self._watched_at = time.monotonic()
        ids = frozenset(run_ids)
        if ids != self.watched:
            self.watched = ids
            self._changed.set()
        if ids and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    def _wanted(self) -> bool:
        return bool(self.watched) and time.monotonic() - self._watched_at < self.idle

    async def _loop(self) -> None:
        from websockets.exceptions import WebSocketException

        while self._wanted():
            try:
                await self._session(self.watched)
            except (OSError, TimeoutError, WebSocketException, ValueError, ShipdeckError):
                self.failures += 1
            finally:
                self.live = False
            if self.failures:
                delay = RETRY[min(self.failures, len(RETRY)) - 1]
                with contextlib.suppress(TimeoutError):
                    # A new set of runs is worth a try at once; idle time is not.
                    self._changed.clear()
                    await asyncio.wait_for(self._changed.wait(), delay)

    async def _session(self, ids: frozenset[str]) -> None:
        from websockets.asyncio.client import connect
        from websockets.typing import Subprotocol

        self._changed.clear()
        async with connect(
            self.url,
            subprotocols=[Subprotocol("prefect")],
            additional_headers=self.headers,
            open_timeout=OPEN_TIMEOUT,
            max_size=None,
        ) as socket:
            await socket.send(json.dumps({"type": "auth", "token": self.token}))
            reply = json.loads(await asyncio.wait_for(socket.recv(), OPEN_TIMEOUT))
            if reply.get("type") != "auth_success":
                raise ValueError(f"not authenticated: {reply}")
            log_filter = {"flow_run_id": {"any_": sorted(ids)}}
            await socket.send(json.dumps({"type": "filter", "filter": log_filter}))
            await asyncio.sleep(SUBSCRIBED)
            held: list[Record] = []
            receiving = asyncio.get_running_loop().create_task(self._receive(socket, held))
            try:
                await self.sync(ids)
                self.live, self.failures = True, 0
                for record in held:
                    self.received(record)
                held.clear()
                changed = asyncio.get_running_loop().create_task(self._changed.wait())
                while not receiving.done() and not changed.done() and self._wanted():
                    await asyncio.wait([receiving, changed], timeout=1.0)
                changed.cancel()
                if receiving.done():
                    receiving.result()  # the socket closed: raises why
            finally:
                receiving.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await receiving

    async def _receive(self, socket: object, held: list[Record]) -> None:
        from websockets.asyncio.client import ClientConnection

        assert isinstance(socket, ClientConnection)
        async for message in socket:
            data = json.loads(message)
            if not isinstance(data, dict) or data.get("type") != "log":
                continue
            record = Record.model_validate(data["log"])
            if self.live:
                self.received(record)
            else:
                held.append(record)
        raise ValueError("closed by the server")
