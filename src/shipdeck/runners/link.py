"""The link between a RemoteRunner and its runner: HTTP requests and an SSE stream.

Two implementations: UnixLink (stdlib asyncio, for the workspace daemon's `unix:PATH`) and
HttpxLink (httpx, for `http(s)://` runners: TCP, TLS, a bearer token). `parse_url` picks one;
httpx is imported only when an http(s) runner is used, so a unix: client never pays for it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, Unpack
from urllib.parse import urlencode, urlsplit

from shipdeck.errors import InvalidInput

CONNECT_TIMEOUT = 5.0
"""Seconds to connect, whatever the request's own timeout."""


class LinkError(Exception):
    """The request failed on the way (no answer, or a broken one): a transport failure."""


class LinkConnectError(LinkError):
    """It never connected (no socket, refused): nothing was sent, so resending is safe."""


class LinkTimeout(LinkError):
    """A connect, send or read took longer than allowed."""

    def __init__(self, phase: str) -> None:
        super().__init__(f"timed out ({phase})")
        self.phase = phase
        """Which step ran out of time: ConnectTimeout, WriteTimeout, ReadTimeout, PoolTimeout."""


@dataclass(frozen=True)
class Reply:
    """A response: any status (>= 400 included; the caller turns those into errors)."""

    status: int
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)
    """Lower-case names."""
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class ServerEvent:
    """One Server-Sent Event."""

    event: str = "message"
    data: str = ""
    id: str = ""


class EventStream(Protocol):
    reply: Reply
    """The response head; when the status is not 200, the error body is in `reply.body` and
    `events()` yields nothing."""

    def events(self) -> AsyncIterator[ServerEvent]: ...


class Request(TypedDict, total=False):
    """What a request carries besides its method and path."""

    query: Mapping[str, Any] | None
    json_body: Any
    """Sent as JSON (None: no body)."""
    seconds: float | None
    """This request's timeout (None: the link's own)."""


class Link(Protocol):
    async def send(self, method: str, path: str, **options: Unpack[Request]) -> Reply:
        """`path` below the API root, already quoted (the rest: Request). An answer with
        status >= 400 is returned, not raised."""
        ...

    def stream(
        self, path: str, *, headers: Mapping[str, str], read_timeout: float
    ) -> AbstractAsyncContextManager[EventStream]:
        """An SSE stream; each read may wait up to `read_timeout` seconds."""
        ...

    async def aclose(self) -> None: ...


def query_string(query: Mapping[str, Any] | None) -> str:
    """`a=1&ref=x&ref=y` (lists repeat the key; booleans as true/false, like httpx)."""
    if not query:
        return ""
    items = {key: _query_value(value) for key, value in query.items()}
    return urlencode(items, doseq=True)


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [_query_value(item) for item in value]
    return value


def check_header(name: str, value: str) -> None:
    """Refuse what would split or forge a header line."""
    if any(char in text for text in (name, value) for char in "\r\n\0"):
        raise InvalidInput(f"header {name!r} must not contain CR, LF or NUL")


def parse_url(
    url: str,
    *,
    token: str | None = None,
    timeout: float = 30.0,
    verify: bool | str = True,
) -> Link:
    """The link for `unix:PATH` (UnixLink) or `http(s)://HOST:PORT` (HttpxLink)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for name, value in headers.items():
        check_header(name, value)
    if url.startswith("unix:"):
        path = url[len("unix:") :]
        if not path:
            raise InvalidInput("runner URL unix:PATH needs a path")
        from shipdeck.runners.unix_link import UnixLink

        return UnixLink(path, prefix="/v1", headers=headers, timeout=timeout)
    try:
        parsed = urlsplit(url)
        scheme, host = parsed.scheme, parsed.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in ("http", "https") or not host:
        raise InvalidInput(f"runner URL must be http(s)://HOST:PORT or unix:PATH, got {url!r}")
    from shipdeck.runners.httpx_link import HttpxLink

    return HttpxLink(f"{url.rstrip('/')}/v1", headers=headers, timeout=timeout, verify=verify)
