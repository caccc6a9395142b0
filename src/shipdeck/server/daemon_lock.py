"""One workspace daemon per workspace: a lock the daemon holds for its whole life.

The daemon takes `.shipdeck/daemon.lock` (flock) before it binds its socket, and lets it go
only after it has removed that socket and closed its runner; the kernel drops it when the
process dies, even by kill -9. So no second daemon binds the socket while the first lives,
stopping or not, whatever the socket file looks like. The file holds the owner's pid (for
messages) and is never removed: a process that had opened it before the removal would lock
the removed file while a third locked a new one, and both would think they own the workspace.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from pathlib import Path

from shipdeck.errors import Conflict
from shipdeck.server.listen import socket_is_live

POLL = 0.05


class DaemonServing(Conflict):
    """Another daemon holds the lock and answers on the socket."""

    def __init__(self, socket: Path, pid: int | None) -> None:
        super().__init__(f"a runner is already listening on {socket}")
        self.pid = pid


class DaemonLock:
    """The lock, held by this process until `release()` (or its death)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    async def acquire(cls, path: Path, socket: Path, *, patience: float) -> DaemonLock:
        """Take the lock. While another process holds it: raise DaemonServing if that one
        answers on `socket` (clients talk to it); else it is stopping (or just starting), so
        wait for it, up to `patience` seconds, then raise Conflict naming it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            deadline = time.monotonic() + patience
            while not _try_lock(fd):
                if socket_is_live(socket):
                    raise DaemonServing(socket, _owner(fd))
                if time.monotonic() > deadline:
                    pid = _owner(fd)
                    raise Conflict(
                        f"another runner for this workspace (pid {pid or '?'}) holds {path} "
                        f"but does not answer on {socket}; stop it, or wait for it to exit"
                    )
                await asyncio.sleep(POLL)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Let the next daemon in; safe to call more than once. The file stays."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _owner(fd: int) -> int | None:
    """The pid the holder wrote (None while it has not yet)."""
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None
