"""Following a runner's SSE event stream: reconnects with backoff, resumes, bounded buffer.

The follower reads ahead into a bounded buffer; when it is full it stops reading, so TCP
pushes back on the server (which resets a client that falls too far behind) instead of
anything growing without bound. If the consumer stops asking for a while, the connection is
dropped and picked up again, from the last event received, when it asks next.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from shipdeck.background import stop_task
from shipdeck.errors import ShipdeckError, Unauthorized, Unavailable
from shipdeck.model import Event, EventKind, EventPage
from shipdeck.model.events import EVENT_LIST
from shipdeck.runners.http_errors import describe_transport_error, error_from_response
from shipdeck.runners.link import Link, LinkConnectError, LinkError

_KNOWN_KINDS = frozenset(kind.value for kind in EventKind)


def known_events(data: str) -> list[Event]:
    """A batch's events, without those of a kind this client does not know (a newer
    runner's): one unknown event must not fail the batch, and the stream with it, for ever."""
    try:
        return EVENT_LIST.validate_json(data)
    except ValidationError as error:
        try:
            raw = json.loads(data)
        except ValueError:
            raise error from None
        if not isinstance(raw, list):
            raise
        kept = _known(raw)
        if len(kept) == len(raw):
            raise
        return EVENT_LIST.validate_python(kept)


def known_page(raw: Any) -> EventPage:
    """A long-poll page (decoded JSON), without events of a kind this client does not know."""
    if isinstance(raw, dict) and isinstance(raw.get("events"), list):
        raw = {**raw, "events": _known(raw["events"])}
    return EventPage.model_validate(raw)


def _known(raw: list[Any]) -> list[Any]:
    return [e for e in raw if not (isinstance(e, dict) and e.get("kind") not in _KNOWN_KINDS)]


class LinkStatus(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass(frozen=True)
class LinkState:
    """What a UI shows about the connection to a runner."""

    status: LinkStatus
    attempt: int = 0
    """Failed attempts in a row (reconnecting and offline)."""
    error: str | None = None

    def describe(self) -> str:
        text = self.status.value
        if self.attempt:
            text += f" (attempt {self.attempt})"
        if self.error and self.status is not LinkStatus.LIVE:
            text += f": {self.error}"
        return text


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.1
    factor: float = 2.0
    cap: float = 5.0
    jitter: float = 0.2
    """Fraction of the delay added at random so many clients don't reconnect in lockstep."""
    offline_after: int = 6
    """Failed attempts in a row after which the link counts as offline (retries go on)."""

    def delay(self, attempt: int) -> float:
        base = min(self.cap, self.initial * self.factor ** max(0, attempt - 1))
        return base * (1 + random.uniform(0, self.jitter))


@dataclass(frozen=True)
class _Reset:
    seq: int


class _StreamEnded(Exception):
    """The server closed the stream (it is shutting down): reconnect like any other drop."""


class EventFollower:
    def __init__(
        self,
        link: Link,
        after: int,
        *,
        backoff: Backoff | None = None,
        max_buffer: int = 20_000,
        idle_timeout: float = 30.0,
        read_timeout: float = 45.0,
        on_state: Callable[[LinkState], None] | None = None,
        revive: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._link = link
        self._revive = revive
        """Called when the runner refuses connections (its socket gone): the workspace
        daemon's client starts a new daemon, and the stream resumes from where it was."""
        self.position = after
        """Everything up to here has been handed to the consumer."""
        self.received = after
        """Everything up to here has arrived from the server."""
        self._backoff = backoff or Backoff()
        self._max_buffer = max_buffer
        self._idle_timeout = idle_timeout
        self._read_timeout = read_timeout
        self._on_state = on_state
        self.state = LinkState(LinkStatus.CONNECTING)
        self._buffer: deque[Event | _Reset] = deque()
        self._ready = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._fatal: ShipdeckError | None = None
        self._last_asked = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._pump(), name="shipdeck-event-follower")

    async def close(self) -> None:
        self._closed = True
        await stop_task(self._task)
        self._set_state(LinkState(LinkStatus.OFFLINE, error="closed"))

    async def next_page(self, wait: float, limit: int) -> EventPage:
        """Events after `position` (at most `limit`), waiting up to `wait` s for the first."""
        self._last_asked = time.monotonic()
        if self._fatal is not None:
            raise self._fatal
        self.start()
        if not self._buffer and wait > 0:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._ready.wait()
            if self._fatal is not None:
                raise self._fatal
        events: list[Event] = []
        reset: _Reset | None = None
        while self._buffer and len(events) < limit:
            item = self._buffer[0]
            if isinstance(item, _Reset):
                if not events:
                    reset = item
                    self._buffer.popleft()
                break
            events.append(item)
            self._buffer.popleft()
        if not self._buffer:
            self._ready.clear()
        if len(self._buffer) < self._max_buffer:
            self._space.set()
        if reset is not None:
            self.position = reset.seq
            return EventPage(events=[], last_seq=reset.seq, reset=True)
        if events:
            self.position = events[-1].seq
        # The events were validated when they arrived; don't pay for it again per page.
        return EventPage.model_construct(events=events, last_seq=self.position, reset=False)

    def _set_state(self, state: LinkState) -> None:
        if state != self.state:
            self.state = state
            if self._on_state is not None:
                self._on_state(state)

    async def _pump(self) -> None:
        attempt = 0
        while not self._closed:
            try:
                await self._stream()
                return  # the consumer went idle with a full buffer; resume when it asks
            except (LinkError, _StreamEnded, ValidationError) as error:
                attempt += 1
                message = (
                    describe_transport_error(error)
                    if isinstance(error, LinkError)
                    else "stream interrupted"
                )
                status = (
                    LinkStatus.OFFLINE
                    if attempt > self._backoff.offline_after
                    else LinkStatus.RECONNECTING
                )
                self._set_state(LinkState(status, attempt, message))
                if isinstance(error, LinkConnectError) and self._revive is not None:
                    await self._revive()
                await asyncio.sleep(self._backoff.delay(attempt))
            except Unavailable as error:
                attempt += 1
                self._set_state(LinkState(LinkStatus.RECONNECTING, attempt, str(error)))
                await asyncio.sleep(self._backoff.delay(attempt))
            except ShipdeckError as error:
                # Refused credentials or a request the runner rejects: retrying cannot help.
                self._fatal = error
                self._set_state(LinkState(LinkStatus.OFFLINE, attempt, str(error)))
                self._ready.set()
                return

    async def _stream(self) -> None:
        headers = {"Last-Event-ID": str(self.received)}
        async with self._link.stream(
            "/events/stream", headers=headers, read_timeout=self._read_timeout
        ) as source:
            reply = source.reply
            if reply.status != 200:
                error = error_from_response(reply)
                if reply.status in (401, 403) and not isinstance(error, Unauthorized):
                    error = Unauthorized(str(error))
                raise error
            self._set_state(LinkState(LinkStatus.LIVE))
            async for message in source.events():
                if message.event == "events":
                    self._take(known_events(message.data))
                elif message.event == "reset":
                    seq = int(message.id) if message.id else self.received
                    self._buffer.append(_Reset(seq))
                    self.received = seq
                    self._ready.set()
                else:
                    continue
                if not await self._wait_for_space():
                    return
        raise _StreamEnded

    def _take(self, events: list[Event]) -> None:
        # After a reconnect the server resumes strictly after `received`; this guards anyway.
        fresh = events
        if events and events[0].seq <= self.received:
            fresh = [event for event in events if event.seq > self.received]
        if fresh:
            self._buffer.extend(fresh)
            self.received = fresh[-1].seq
            self._ready.set()

    async def _wait_for_space(self) -> bool:
        """Stop reading while the buffer is full; False when the consumer seems gone."""
        while len(self._buffer) >= self._max_buffer:
            self._space.clear()
            idle_for = time.monotonic() - self._last_asked
            remaining = self._idle_timeout - idle_for
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._space.wait()
        return True
