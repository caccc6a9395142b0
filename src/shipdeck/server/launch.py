"""Running the app under uvicorn on a socket we bound ourselves.

Binding first lets us set the Unix socket's mode before anyone can connect, report the real
port when 0 was asked for, and hand the same code to tests (in-process) and to `shipdeck serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipdeck.server.idle import Activity, IdleExit

log = logging.getLogger("shipdeck.server")

GRACEFUL_SHUTDOWN = 3
"""Seconds open requests get to finish on shutdown (event streams and long polls end at once);
then those still running are answered 503."""
UVICORN_GRACE = GRACEFUL_SHUTDOWN + 2
"""uvicorn's own limit, a backstop: it cancels what is left and logs each with a traceback."""
SOCKET_CHECK_TICKS = 10
"""uvicorn ticks (0.1 s) between two looks at the socket file a server watches."""
STOPPING_BODY = json.dumps(
    {"error": {"type": "Unavailable", "message": "the runner is stopping"}}
).encode()


class _CutShort:
    """ASGI wrapper: requests still running when the shutdown's grace ends are cancelled here
    and answered 503 Unavailable ("the runner is stopping"), rather than left to uvicorn, which
    would cancel them too but log each as an exception with its traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._running: set[asyncio.Task[object]] = set()
        self._cutting = False

    def cut(self) -> None:
        self._cutting = True
        for task in self._running:
            task.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        if scope["type"] != "http" or task is None:
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        self._running.add(task)
        try:
            await self.app(scope, receive, sending)
        except asyncio.CancelledError:
            if not self._cutting:
                raise
            task.uncancel()
            log.info("%s %s cut short: the runner is stopping", scope["method"], scope["path"])
            if not started:
                await _answer_stopping(send)
        finally:
            self._running.discard(task)


async def _answer_stopping(send: Send) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(STOPPING_BODY)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": STOPPING_BODY})


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path


@dataclass(eq=False)
class _Server(uvicorn.Server):
    """uvicorn.Server that ends event streams on shutdown, answers what is still running when
    the grace ends, never re-raises the signal, stops on its own when idle (if given an
    IdleExit), and stops when the socket file it watches is removed or replaced."""

    config: uvicorn.Config
    requests: _CutShort
    stopping: asyncio.Event
    signals: bool
    idle: IdleExit | None = None
    unlisten: Callable[[], None] | None = None
    socket_file: Path | None = None
    draining: bool = field(default=False, init=False)
    idle_exited: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        super().__init__(self.config)
        self._socket_id = _file_id(self.socket_file) if self.socket_file is not None else None

    def request_stop(self) -> None:
        """Stop: the socket path goes first (a client arriving now starts a new server, which
        waits for this one to exit), then streams and long polls end, then the rest."""
        self._unlisten()
        self.stopping.set()
        self.should_exit = True

    def _unlisten(self) -> None:
        unlisten, self.unlisten = self.unlisten, None
        if unlisten is not None:
            unlisten()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        cut = asyncio.get_running_loop().call_later(GRACEFUL_SHUTDOWN, self.requests.cut)
        try:
            await super().shutdown(sockets)
        finally:
            cut.cancel()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if not self.signals or threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    async def on_tick(self, counter: int) -> bool:
        if self.idle is not None and not self.should_exit:
            self._check_idle(self.idle)
        if counter % SOCKET_CHECK_TICKS == 0 and not (self.should_exit or self.draining):
            self._check_socket()
        if self.should_exit:
            self.stopping.set()
        return await super().on_tick(counter)

    def _check_socket(self) -> None:
        """A server whose socket file is gone (removed by hand, or by a cleaner of the runtime
        directory) or replaced can no longer be reached by new clients, which start another
        server: it stops, so that the clients still attached to it move to that one."""
        if self.socket_file is None:
            return
        now = _file_id(self.socket_file)
        if now == self._socket_id:
            return
        what = "removed" if now is None else "replaced by another"
        log.warning("%s was %s; exiting", self.socket_file, what)
        self.unlisten = None  # not ours to remove any more
        self.request_stop()

    def _check_idle(self, idle: IdleExit) -> None:
        """Idle long enough: stop listening first (so a client arriving now starts a new
        server instead of reaching this one), then exit once the connections that slipped in
        before that are served and gone. Runs in one loop step, so no connection is accepted
        between the decision and the close."""
        state = self.server_state
        activity = Activity(len(state.connections), len(state.tasks), state.total_requests)
        if not self.draining:
            if idle.expired(activity):
                self.draining = True
                self._unlisten()
                for server in self.servers:
                    server.close()
                # A stream or long poll that slipped in before the close must not keep this
                # server (and its lock) alive while the clients start the next one.
                self.stopping.set()
        elif idle.quiet(activity):
            log.info("%s: exiting", idle.describe())
            self.idle_exited = True
            self.request_stop()


class RunningServer:
    """A server started in the current event loop; `stop()` shuts it down."""

    def __init__(self, server: _Server, task: asyncio.Task[None], url: str) -> None:
        self._server = server
        self._task = task
        self.url = url

    async def stop(self) -> None:
        self._server.request_stop()
        await self._task

    async def wait(self) -> None:
        """Until the server exits (a signal, `stop()` from elsewhere, or idle)."""
        await asyncio.shield(self._task)

    @property
    def idle_exited(self) -> bool:
        """True when the server stopped because it was idle."""
        return self._server.idle_exited


async def start_server(
    app: FastAPI,
    sock: socket.socket,
    url: str,
    *,
    tls: Tls | None = None,
    signals: bool = False,
    idle: IdleExit | None = None,
    unlisten: Callable[[], None] | None = None,
    socket_file: Path | None = None,
) -> RunningServer:
    """Serve `app` on `sock`. With `idle`, the server stops on its own once idle; `unlisten`
    is called just before it stops accepting connections (to remove a socket path). With
    `socket_file` (the path `sock` is bound to), it stops once that file is removed or
    replaced."""
    requests = _CutShort(app)
    config = uvicorn.Config(
        requests,
        lifespan="off",
        access_log=False,  # AccessLog middleware logs paths without query strings instead
        log_config=None,
        ws="none",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=UVICORN_GRACE,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
    server = _Server(config, requests, app.state.stopping, signals, idle, unlisten, socket_file)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server exited during startup")
        await asyncio.sleep(0.01)
    log.info("listening on %s", url)
    return RunningServer(server, task, url)


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino
