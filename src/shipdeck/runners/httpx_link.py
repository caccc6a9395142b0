"""HttpxLink: the Link protocol on httpx, for runners over TCP (a bearer token, TLS).

The only module that imports httpx; a client of a unix: runner never loads it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator, Mapping
from typing import Any, NoReturn, Unpack

# `import httpx` also imports its own command-line client, httpx._main (click, pygments, rich:
# ~0.1 s), which shipdeck never runs (encode/httpx#3547). A None entry is the import system's
# "known missing", so httpx falls back to a stub `httpx.main`.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402
from httpx_sse import aconnect_sse  # noqa: E402

from shipdeck.runners.http_errors import describe_transport_error  # noqa: E402
from shipdeck.runners.link import (  # noqa: E402
    CONNECT_TIMEOUT,
    LinkConnectError,
    LinkError,
    LinkTimeout,
    Reply,
    Request,
    ServerEvent,
)

LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)


def _raise(error: httpx.TransportError) -> NoReturn:
    """Our link error for an httpx one (the distinctions RemoteRunner acts on kept)."""
    if isinstance(error, httpx.ConnectError):
        raise LinkConnectError(describe_transport_error(error)) from None
    if isinstance(error, httpx.TimeoutException):
        raise LinkTimeout(type(error).__name__) from None
    raise LinkError(describe_transport_error(error)) from None


def _reply(response: httpx.Response, body: bytes = b"") -> Reply:
    headers = {name.lower(): value for name, value in response.headers.items()}
    return Reply(response.status_code, response.reason_phrase, headers, body)


class _EventStream:
    def __init__(self, reply: Reply, messages: AsyncIterator[ServerEvent] | None) -> None:
        self.reply = reply
        self._messages = messages

    async def events(self) -> AsyncIterator[ServerEvent]:
        if self._messages is None:
            return
        async for message in self._messages:
            yield message


class HttpxLink:
    """Requests to `base` (the API root URL) through one httpx.AsyncClient."""

    def __init__(
        self,
        base: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        verify: bool | str = True,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT),
            verify=verify,
            limits=LIMITS,
        )

    async def send(self, method: str, path: str, **options: Unpack[Request]) -> Reply:
        query, json_body = options.get("query"), options.get("json_body")
        seconds = options.get("seconds")
        extra: dict[str, Any] = {}
        if seconds is not None:
            extra["timeout"] = httpx.Timeout(seconds, connect=CONNECT_TIMEOUT)
        if json_body is not None:
            # Encoded as UnixLink does (ASCII, escapes), not by httpx (UTF-8, which raises on
            # text the runner must see to refuse, such as a lone surrogate in a param).
            extra["content"] = json.dumps(json_body).encode()
            extra["headers"] = {"Content-Type": "application/json"}
        try:
            response = await self._client.request(method, path, params=dict(query or {}), **extra)
        except httpx.TransportError as error:
            _raise(error)
        return _reply(response, response.content)

    @contextlib.asynccontextmanager
    async def stream(
        self, path: str, *, headers: Mapping[str, str], read_timeout: float
    ) -> AsyncIterator[_EventStream]:
        timeout = httpx.Timeout(10.0, read=read_timeout)
        try:
            async with aconnect_sse(
                self._client, "GET", path, headers=dict(headers), timeout=timeout
            ) as source:
                response = source.response
                if response.status_code != 200:
                    await response.aread()
                    yield _EventStream(_reply(response, response.content), None)
                    return

                async def messages() -> AsyncIterator[ServerEvent]:
                    try:
                        async for message in source.aiter_sse():
                            yield ServerEvent(message.event, message.data, message.id)
                    except httpx.TransportError as error:  # httpx_sse.SSEError included
                        _raise(error)

                yield _EventStream(_reply(response), messages())
        except httpx.TransportError as error:
            _raise(error)

    async def aclose(self) -> None:
        await self._client.aclose()
