"""UnixLink: a small HTTP/1.1 client on asyncio's Unix-socket streams (stdlib only).

It talks to our own runner (the workspace daemon, uvicorn) and needs little: keep-alive with
a few idle connections (each concurrent request gets its own), Content-Length, chunked and
read-to-close bodies, per-request timeouts, and an SSE stream. Importing httpx and the first
request through it (httpcore, h11, anyio) cost ~0.2 s of CPU, which a TUI pays before its
first frame; this costs next to nothing.

A pooled connection the server has closed is dropped before use. One that dies after the
request was written is retried once on a fresh connection only when nothing of the answer
was read and the request is a GET: a write the server may have acted on is never resent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Unpack

from shipdeck.errors import InvalidInput
from shipdeck.runners import link
from shipdeck.runners.http_errors import describe_transport_error
from shipdeck.runners.sse import SSEParser

MAX_CONNECTIONS = 20
MAX_IDLE = 10
IDLE_EXPIRY = 4.0
"""Seconds a connection may sit idle before it is closed rather than reused: less than the
server's keep-alive timeout (uvicorn: 5 s), so the server rarely closes one under a request."""
READ_LIMIT = 1 << 20
"""Longest status or header line accepted."""
STREAM_READ = 1 << 16
# What the transport raises when the connection breaks or the answer makes no sense.
BROKEN = (OSError, EOFError, asyncio.LimitOverrunError, ValueError, UnicodeError)


class _Stale(Exception):
    """A reused connection closed before any of the answer arrived: a GET may go again."""


@dataclass
class _Step:
    """The step a request is in, to name a timeout."""

    name: str = "PoolTimeout"


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    reused: bool = False
    idle_since: float = 0.0

    def dead(self) -> bool:
        return (
            self.reader.at_eof() or self.writer.is_closing() or self.reader.exception() is not None
        )

    def abort(self) -> None:
        self.writer.transport.abort()


@dataclass(frozen=True)
class _Head:
    version: str
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)

    def reply(self, body: bytes = b"") -> link.Reply:
        return link.Reply(self.status, self.reason, self.headers, body)

    @property
    def keep_alive(self) -> bool:
        return self.version == "HTTP/1.1" and "close" not in self.headers.get("connection", "")

    @property
    def chunked(self) -> bool:
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    def length(self) -> int | None:
        value = self.headers.get("content-length")
        if value is None:
            return None
        if not value.strip().isdigit():
            raise ValueError(f"bad Content-Length {value!r}")
        return int(value)


class UnixLink:
    """HTTP/1.1 to `path`; request paths are below `prefix` and already quoted."""

    def __init__(
        self,
        path: str,
        *,
        prefix: str = "",
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        max_connections: int = MAX_CONNECTIONS,
        max_idle: int = MAX_IDLE,
        idle_expiry: float = IDLE_EXPIRY,
    ) -> None:
        self.path = path
        self._prefix = prefix
        self._headers = _header_block({"Host": "runner", **(headers or {})})
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Conn] = []
        self._max_idle = max_idle
        self._idle_expiry = idle_expiry
        self._closed = False

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    async def send(self, method: str, path: str, **options: Unpack[link.Request]) -> link.Reply:
        query, json_body = options.get("query"), options.get("json_body")
        seconds = options.get("seconds")
        body = b"" if json_body is None else json.dumps(json_body).encode()
        extra = {"Content-Type": "application/json"} if json_body is not None else {}
        request = self._request(method, path, query, extra, body)
        step = _Step()
        try:
            async with asyncio.timeout(self._timeout if seconds is None else seconds):
                async with self._slots:
                    conn = await self._acquire(step)
                    try:
                        return await self._exchange(conn, request, method, step)
                    except _Stale:
                        conn = await self._connect(step)
                        return await self._exchange(conn, request, method, step)
        except TimeoutError:
            raise link.LinkTimeout(step.name) from None
        except _Stale:  # cannot happen on a fresh connection; kept for the type checker
            raise link.LinkError("the runner closed the connection without answering") from None
        except BROKEN as error:
            raise link.LinkError(_describe(error)) from None

    @contextlib.asynccontextmanager
    async def stream(
        self, path: str, *, headers: Mapping[str, str], read_timeout: float
    ) -> AsyncIterator[_EventStream]:
        extra = {"Accept": "text/event-stream", "Cache-Control": "no-cache", **headers}
        request = self._request("GET", path, None, extra, b"")
        step = _Step()
        async with self._slots:
            conn: _Conn | None = None
            try:
                try:
                    async with asyncio.timeout(read_timeout + link.CONNECT_TIMEOUT):
                        conn = await self._acquire(step)
                        try:
                            head = await self._start(conn, request, "GET", step)
                        except _Stale:
                            conn.abort()
                            conn = await self._connect(step)
                            head = await self._start(conn, request, "GET", step)
                        stream = _EventStream(conn.reader, head, read_timeout)
                        if head.status != 200:
                            stream.reply = head.reply(await _read_body(conn.reader, head))
                except TimeoutError:
                    raise link.LinkTimeout(step.name) from None
                except BROKEN as error:
                    raise link.LinkError(_describe(error)) from None
                yield stream
            finally:
                if conn is not None:
                    conn.abort()  # never reused: the stream may end anywhere

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.writer.close()
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.writer.wait_closed()

    # Plumbing --------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        body: bytes,
    ) -> bytes:
        target = self._prefix + path
        if any(char in target for char in " \r\n\0\t") or not target.startswith("/"):
            raise InvalidInput(f"bad request path {path!r}")
        if encoded := link.query_string(query):
            target += "?" + encoded
        block = self._headers + _header_block(headers)
        if body or method in ("POST", "PUT", "PATCH"):
            block += b"Content-Length: %d\r\n" % len(body)
        return b"%s %s HTTP/1.1\r\n%s\r\n%s" % (method.encode(), target.encode(), block, body)

    async def _acquire(self, step: _Step) -> _Conn:
        """An idle connection that still looks alive, else a new one."""
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()  # the most recently used: the least likely expired
            if conn.dead() or now - conn.idle_since > self._idle_expiry:
                conn.abort()
                continue
            return conn
        return await self._connect(step)

    async def _connect(self, step: _Step) -> _Conn:
        step.name = "ConnectTimeout"
        try:
            async with asyncio.timeout(link.CONNECT_TIMEOUT):
                reader, writer = await asyncio.open_unix_connection(self.path, limit=READ_LIMIT)
        except TimeoutError:
            raise
        except OSError as error:
            raise link.LinkConnectError(_describe(error)) from None
        return _Conn(reader, writer)

    def _release(self, conn: _Conn) -> None:
        if self._closed:
            conn.writer.close()
            return
        conn.reused = True
        conn.idle_since = time.monotonic()
        self._idle.append(conn)
        if len(self._idle) > self._max_idle:
            self._idle.pop(0).writer.close()

    async def _exchange(self, conn: _Conn, request: bytes, method: str, step: _Step) -> link.Reply:
        """One request on `conn`, which goes back to the pool only when the answer was whole."""
        try:
            head = await self._start(conn, request, method, step)
            body = await _read_body(conn.reader, head, method)
        except BaseException:
            conn.abort()
            raise
        framed = method == "HEAD" or head.chunked or head.length() is not None
        if framed and head.keep_alive and not conn.dead():
            self._release(conn)
        else:
            conn.writer.close()
        return head.reply(body)

    async def _start(self, conn: _Conn, request: bytes, method: str, step: _Step) -> _Head:
        """Send the request and read the answer's head."""
        step.name = "WriteTimeout"
        try:
            conn.writer.write(request)
            await conn.writer.drain()
            step.name = "ReadTimeout"
            first = await conn.reader.read(1)
        except ConnectionError:
            first = b""
        if not first:
            if conn.reused and method == "GET":
                raise _Stale
            raise link.LinkError("the runner closed the connection without answering")
        while True:
            raw = first + await conn.reader.readuntil(b"\r\n\r\n")
            head = _parse_head(raw)
            if not 100 <= head.status < 200:
                return head
            first = b""  # an interim answer (100 Continue): the real one follows


class _EventStream:
    def __init__(self, reader: asyncio.StreamReader, head: _Head, read_timeout: float) -> None:
        self.reply = head.reply()
        self._reader = reader
        self._head = head
        self._read_timeout = read_timeout

    async def events(self) -> AsyncIterator[link.ServerEvent]:
        if self.reply.status != 200:
            return
        kind = self._head.headers.get("content-type", "")
        if not kind.startswith("text/event-stream"):
            raise link.LinkError(f"expected an event stream, got {kind or 'no content type'}")
        parser = SSEParser()
        try:
            while True:
                async with asyncio.timeout(self._read_timeout):
                    chunk = await self._chunk()
                if not chunk:
                    return
                for event in parser.feed(chunk):
                    yield event
        except TimeoutError:
            raise link.LinkTimeout("ReadTimeout") from None
        except BROKEN as error:
            raise link.LinkError(_describe(error)) from None

    async def _chunk(self) -> bytes:
        """The next piece of the body; b"" at its end."""
        if self._head.chunked:
            return await _read_chunk(self._reader)
        return await self._reader.read(STREAM_READ)


async def _read_body(reader: asyncio.StreamReader, head: _Head, method: str = "GET") -> bytes:
    if method == "HEAD" or head.status in (204, 304):
        return b""
    if head.chunked:
        parts = []
        while chunk := await _read_chunk(reader):
            parts.append(chunk)
        return b"".join(parts)
    length = head.length()
    if length is not None:
        return await reader.readexactly(length)
    return await reader.read()  # no framing: the body ends when the server closes


async def _read_chunk(reader: asyncio.StreamReader) -> bytes:
    """One chunk of a chunked body; b"" for the last (its trailers skipped)."""
    line = await reader.readuntil(b"\n")
    size = int(line.split(b";", 1)[0].strip(), 16)
    if size == 0:
        while (await reader.readuntil(b"\n")).strip():
            pass
        return b""
    data = await reader.readexactly(size)
    if (await reader.readuntil(b"\n")).strip():
        raise ValueError("chunk longer than its size")
    return data


def _parse_head(raw: bytes) -> _Head:
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise ValueError(f"not an HTTP answer: {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"bad header line {line[:60]!r}")
        key, value = name.strip().lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return _Head(version, int(code), reason, headers)


def _header_block(headers: Mapping[str, str]) -> bytes:
    for name, value in headers.items():
        link.check_header(name, value)
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("latin-1")


def _describe(error: BaseException) -> str:
    if isinstance(error, asyncio.IncompleteReadError):
        return "the runner closed the connection in the middle of an answer"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return describe_transport_error(error)
