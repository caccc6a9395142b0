"""UnixLink on a real Unix socket, against a server whose every answer the test writes itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shipdeck.errors import InvalidInput, NotFound
from shipdeck.runners.http_errors import describe_transport_error, error_from_response
from shipdeck.runners.link import LinkConnectError, LinkError, LinkTimeout, ServerEvent
from shipdeck.runners.unix_link import UnixLink

from .conftest import eventually


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int
    """Which connection (1, 2, ...) it came on."""


Answer = Callable[[Request, asyncio.StreamWriter], Awaitable[bytes | None]]
"""Bytes to send back (then wait for the next request), or None: close the connection."""


@dataclass
class RawServer:
    path: Path
    answer: Answer
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    closed: int = 0
    """Connections this server has closed (their close completed)."""
    _server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ")
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Request(method, target, headers, body, number)
                self.requests.append(request)
                reply = await self.answer(request, writer)
                if reply is None:
                    return
                writer.write(reply)
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self.closed += 1


@contextlib.asynccontextmanager
async def raw_server(tmp_path: Path, answer: Answer) -> AsyncIterator[RawServer]:
    server = RawServer(tmp_path / "raw.sock", answer)
    server._server = await asyncio.start_unix_server(server._handle, path=str(server.path))
    try:
        yield server
    finally:
        server._server.close()
        await server._server.wait_closed()


def length_answer(body: bytes, status: str = "200 OK", extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def chunked_answer(*chunks: bytes, content_type: str = "application/json") -> bytes:
    out = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    data = out.encode()
    for chunk in chunks:
        data += b"%x\r\n%s\r\n" % (len(chunk), chunk)
    return data + b"0\r\nX-Trailer: yes\r\n\r\n"


async def echo(request: Request, writer: asyncio.StreamWriter) -> bytes:
    """The request as JSON, with Content-Length."""
    body = {"method": request.method, "target": request.target, "body": request.body.decode()}
    return length_answer(json.dumps(body).encode())


async def test_content_length_and_chunked_answers_and_the_request(tmp_path: Path) -> None:
    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes:
        if request.target.startswith("/v1/chunked"):
            return chunked_answer(b'{"parts": ', b"[1, 2", b", 3]}")
        return await echo(request, writer)

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path), prefix="/v1", headers={"Authorization": "Bearer t"})
        try:
            reply = await link.send(
                "POST", "/runs/a%2Fb", query={"ref": ["x y", "z"], "n": 3}, json_body={"k": 1}
            )
            assert reply.status == 200 and reply.reason == "OK"
            assert reply.json() == {
                "method": "POST",
                "target": "/v1/runs/a%2Fb?ref=x+y&ref=z&n=3",
                "body": '{"k": 1}',
            }
            assert server.requests[0].headers["authorization"] == "Bearer t"
            assert server.requests[0].headers["content-type"] == "application/json"
            chunked = await link.send("GET", "/chunked")
            assert chunked.json() == {"parts": [1, 2, 3]}
            assert chunked.headers["transfer-encoding"] == "chunked"
            # Both answers were whole, so one connection carried all of them.
            again = await link.send("GET", "/again")
            assert again.json()["target"] == "/v1/again"
            assert server.connections == 1 and link.idle_connections == 1
        finally:
            await link.aclose()


async def test_an_error_status_is_returned_for_the_caller_to_map(tmp_path: Path) -> None:
    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes:
        error = {"error": {"type": "NotFound", "message": "no run #9"}}
        return length_answer(json.dumps(error).encode(), status="404 Not Found")

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path))
        try:
            reply = await link.send("GET", "/runs/9")
            assert reply.status == 404
            error = error_from_response(reply)
            assert isinstance(error, NotFound) and str(error) == "no run #9"
        finally:
            await link.aclose()


async def test_a_body_that_ends_with_the_connection_is_read_and_not_reused(
    tmp_path: Path,
) -> None:
    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes | None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
        return None

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path))
        try:
            assert (await link.send("GET", "/a")).body == b"until the end"
            assert (await link.send("GET", "/b")).body == b"until the end"
            assert server.connections == 2 and link.idle_connections == 0
        finally:
            await link.aclose()


async def test_concurrent_requests_get_their_own_connections_then_reuse_them(
    tmp_path: Path,
) -> None:
    both_in = asyncio.Event()

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes:
        if request.target.startswith("/v1/hold"):
            if sum(r.target.startswith("/v1/hold") for r in server.requests) == 2:
                both_in.set()
            await both_in.wait()  # neither is answered until both arrived
        return await echo(request, writer)

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path), prefix="/v1")
        try:
            hold = link.send("GET", "/hold"), link.send("GET", "/hold")
            first, second = await asyncio.gather(*hold)
            assert first.status == second.status == 200
            assert server.connections == 2 and link.idle_connections == 2
            for _ in range(3):
                await link.send("GET", "/next")
            assert server.connections == 2
        finally:
            await link.aclose()


async def test_an_idle_connection_the_server_closed_is_not_used(tmp_path: Path) -> None:
    """The server closes a keep-alive connection after each answer (as a keep-alive timeout
    would): once the client has seen it close, even a POST goes out on a fresh connection."""

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes | None:
        writer.write(await echo(request, writer))
        return None  # close, without saying so in the answer

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path))
        try:
            await link.send("GET", "/a")
            await eventually(lambda: server.closed == 1 and link._idle[0].dead())
            reply = await link.send("POST", "/b", json_body={"once": True})
            assert reply.json()["target"] == "/b"
            assert [r.target for r in server.requests] == ["/a", "/b"]
            assert server.connections == 2
        finally:
            await link.aclose()


async def test_a_get_on_a_connection_that_died_unanswered_goes_once_more(
    tmp_path: Path,
) -> None:
    """The race a keep-alive timeout allows: the request went out on a pooled connection the
    server then closed without reading it. A GET is resent on a fresh connection, a POST not."""

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes | None:
        if request.target == "/first":
            return await echo(request, writer)
        if request.connection == 1:
            return None  # the pooled connection dies, nothing answered
        return await echo(request, writer)

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path))
        try:
            await link.send("GET", "/first")
            assert (await link.send("GET", "/read")).json()["target"] == "/read"
            assert [(r.target, r.connection) for r in server.requests] == [
                ("/first", 1),
                ("/read", 1),
                ("/read", 2),
            ]
        finally:
            await link.aclose()

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path))
        try:
            await link.send("GET", "/first")
            with pytest.raises(LinkError) as raised:
                await link.send("POST", "/write", json_body={})
            assert not isinstance(raised.value, LinkConnectError)
            assert [r.target for r in server.requests] == ["/first", "/write"]  # not resent
            assert (await link.send("GET", "/after")).status == 200
        finally:
            await link.aclose()


async def test_a_request_that_takes_too_long_times_out_and_the_link_goes_on(
    tmp_path: Path,
) -> None:
    never = asyncio.Event()

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes:
        if request.target == "/hang":
            await never.wait()
        return await echo(request, writer)

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path), timeout=5.0)
        try:
            with pytest.raises(LinkTimeout) as raised:
                await link.send("GET", "/hang", seconds=0.2)
            assert describe_transport_error(raised.value) == "timed out (ReadTimeout)"
            assert (await link.send("GET", "/fine")).status == 200
            assert server.connections == 2  # the timed-out connection was dropped
        finally:
            await link.aclose()


async def test_no_socket_or_a_dead_one_is_never_connected(tmp_path: Path) -> None:
    missing = UnixLink(str(tmp_path / "missing.sock"))
    with pytest.raises(LinkConnectError):
        await missing.send("GET", "/health")
    stale = tmp_path / "stale.sock"  # bound once, nobody listening: refuses
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))
    refused = UnixLink(str(stale))
    with pytest.raises(LinkConnectError, match="refused"):
        await refused.send("POST", "/runs", json_body={})


async def test_headers_and_paths_cannot_smuggle_lines(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        UnixLink(str(tmp_path / "x.sock"), headers={"Authorization": "Bearer a\r\nX-Evil: 1"})
    link = UnixLink(str(tmp_path / "x.sock"))
    with pytest.raises(InvalidInput):
        await link.send("GET", "/runs\r\nX-Evil: 1")
    with pytest.raises(InvalidInput):
        async with link.stream("/events/stream", headers={"Last-Event-ID": "1\n"}, read_timeout=1):
            pass


async def test_an_event_stream_in_awkward_chunks(tmp_path: Path) -> None:
    frames = (
        b"retry: 1000\n: connected\n\n",
        b"id: 3\nevent: events\ndata: [1,",
        b" 2]\n\nevent: note\r\ndata: first line\r",
        b"\ndata:second line\r\n\r\n: heartbeat\n\n",
        b'data: plain\n\nid: 9\nevent: reset\ndata: {"last_seq": 9}\n\n',
    )

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes:
        return chunked_answer(*frames, content_type="text/event-stream; charset=utf-8")

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path), prefix="/v1")
        try:
            headers = {"Last-Event-ID": "2"}
            async with link.stream("/events/stream", headers=headers, read_timeout=5) as source:
                assert source.reply.status == 200
                got = [event async for event in source.events()]
            assert got == [
                ServerEvent("events", "[1, 2]", "3"),
                ServerEvent("note", "first line\nsecond line", "3"),
                ServerEvent("message", "plain", "3"),
                ServerEvent("reset", '{"last_seq": 9}', "9"),
            ]
            request = server.requests[0]
            assert request.target == "/v1/events/stream"
            assert request.headers["last-event-id"] == "2"
            assert request.headers["accept"] == "text/event-stream"
        finally:
            await link.aclose()


async def test_a_refused_stream_carries_its_error_and_a_silent_one_times_out(
    tmp_path: Path,
) -> None:
    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes | None:
        if request.headers.get("last-event-id") == "bad":
            error = {"error": {"type": "InvalidInput", "message": "bad id"}}
            return length_answer(json.dumps(error).encode(), status="422 Unprocessable")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
        await asyncio.Event().wait()  # then nothing, ever
        return None

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path))
        try:
            headers = {"Last-Event-ID": "bad"}
            async with link.stream("/s", headers=headers, read_timeout=5) as source:
                assert source.reply.status == 422
                assert str(error_from_response(source.reply)) == "bad id"
                assert [event async for event in source.events()] == []
            with pytest.raises(LinkTimeout, match="ReadTimeout"):
                async with link.stream("/s", headers={}, read_timeout=0.2) as source:
                    assert source.reply.status == 200
                    async for _ in source.events():
                        pass
        finally:
            await link.aclose()


async def test_an_event_of_a_kind_this_client_does_not_know_is_skipped(tmp_path: Path) -> None:
    """A newer runner may send kinds this client has never heard of: the rest of the batch
    still arrives, and the stream is not torn down and resumed over it again and again."""
    from shipdeck.model import EventKind
    from shipdeck.runners.event_follower import Backoff, EventFollower, LinkStatus

    batch = (
        b'[{"seq": 5, "ts": "2026-01-05T09:00:00Z", "kind": "alert-opened", "data": {}},'
        b' {"seq": 6, "ts": "2026-01-05T09:00:01Z", "kind": "log", "run_id": 1, "task": "t",'
        b' "data": {"n": 0, "stream": "out", "text": "hi"}}]'
    )

    async def answer(request: Request, writer: asyncio.StreamWriter) -> bytes:
        frame = b"id: 6\nevent: events\ndata: " + batch + b"\n\n"
        return chunked_answer(frame, content_type="text/event-stream")

    async with raw_server(tmp_path, answer) as server:
        link = UnixLink(str(server.path), prefix="/v1")
        follower = EventFollower(link, 4, backoff=Backoff(initial=0.05, cap=0.1))
        try:
            page = await follower.next_page(wait=5, limit=100)
            assert [(e.seq, e.kind, e.data.text) for e in page.events] == [(6, EventKind.LOG, "hi")]
            assert follower.state.status != LinkStatus.OFFLINE
        finally:
            await follower.close()
            await link.aclose()
