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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("shipdeck.server")

GRACEFUL_SHUTDOWN = 3
"""Seconds open requests get to finish on shutdown (event streams end at once)."""


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path


class _Server(uvicorn.Server):
    """uvicorn.Server that ends event streams on shutdown and never re-raises the signal."""

    def __init__(self, config: uvicorn.Config, stopping: asyncio.Event, signals: bool) -> None:
        super().__init__(config)
        self.stopping = stopping
        self.signals = signals

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
        if self.should_exit:
            self.stopping.set()
        return await super().on_tick(counter)


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
        """Until the server exits (a signal, or `stop()` from elsewhere)."""
        await asyncio.shield(self._task)


async def start_server(
    app: FastAPI,
    sock: socket.socket,
    url: str,
    *,
    tls: Tls | None = None,
    signals: bool = False,
) -> RunningServer:
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
    server = _Server(config, app.state.stopping, signals)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server exited during startup")
        await asyncio.sleep(0.01)
    log.info("listening on %s", url)
    return RunningServer(server, task, url)
