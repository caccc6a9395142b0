"""Running the app under uvicorn on a socket we bound ourselves.

Binding first lets us set the Unix socket's mode before anyone can connect, report the real
port when 0 was asked for, and hand the same code to tests (in-process) and to `shipdeck serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from shipdeck.server.idle import Activity, IdleExit

log = logging.getLogger("shipdeck.server")

GRACEFUL_SHUTDOWN = 3
"""Seconds open requests get to finish on shutdown (event streams end at once)."""


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path


class _Server(uvicorn.Server):
    """uvicorn.Server that ends event streams on shutdown, never re-raises the signal, and
    stops on its own when idle (if given an IdleExit)."""

    def __init__(
        self,
        config: uvicorn.Config,
        stopping: asyncio.Event,
        signals: bool,
        idle: IdleExit | None = None,
        unlisten: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self.stopping = stopping
        self.signals = signals
        self.idle = idle
        self.unlisten = unlisten
        self.draining = False
        self.idle_exited = False

    def request_stop(self) -> None:
        self.stopping.set()
        self.should_exit = True

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
        if self.should_exit:
            self.stopping.set()
        return await super().on_tick(counter)

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
                if self.unlisten is not None:
                    self.unlisten()
                for server in self.servers:
                    server.close()
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
) -> RunningServer:
    """Serve `app` on `sock`. With `idle`, the server stops on its own once idle; `unlisten`
    is called just before it stops accepting connections (to remove a socket path)."""
    config = uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,  # AccessLog middleware logs paths without query strings instead
        log_config=None,
        ws="none",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
    server = _Server(config, app.state.stopping, signals, idle, unlisten)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server exited during startup")
        await asyncio.sleep(0.01)
    log.info("listening on %s", url)
    return RunningServer(server, task, url)
