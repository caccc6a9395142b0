"""Which engine process owns a run: each process holds an flock'd file under .shipdeck/owners/.

A run records its owner's lock name. The kernel drops an flock when its process dies (even by
kill -9), so "can I take this lock?" answers "is the owner gone?" without trusting pids.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from pathlib import Path

_SUFFIX = ".lock"


class OwnerLock:
    """This process's lock. Created under a temporary name and renamed once locked, so no other
    process can see it unlocked and mistake it for a dead owner's."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        temporary = directory / f".{self.name}.tmp"
        self._fd: int | None = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # Best effort: on a full disk the lock still works, judged by the flock alone.
        with contextlib.suppress(OSError):
            os.write(self._fd, _identity(os.getpid()).encode())
        self.path = directory / f"{self.name}{_SUFFIX}"
        temporary.rename(self.path)

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


def owner_alive(directory: Path, name: str | None) -> bool:
    """True while the process holding `name`'s lock is alive (it still holds the flock)."""
    if not name:
        return False
    path = directory / f"{name}{_SUFFIX}"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        # A shared probe: two processes probing at once do not see each other as the owner.
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return not _holder_gone(os.read(fd, 200).decode(errors="replace"))
    finally:
        os.close(fd)
    return False


def _identity(pid: int) -> str:
    """`pid namespace start-time`: who took a lock, as this host's kernel knows it."""
    return f"{pid} {_namespace()} {_start_time(pid)}\n"


def _holder_gone(recorded: str) -> bool:
    """The lock is held, but the process that took it is gone: some other process kept a
    copy of its descriptor (a child forked at the moment it died, before its exec). Judged
    only in the owner's own pid namespace, where its pid and start time are known; anywhere
    else (another container sharing the workspace) the held lock alone decides."""
    parts = recorded.split()
    if len(parts) != 3 or not parts[0].isdigit() or parts[1] != _namespace():
        return False
    return _start_time(int(parts[0])) != parts[2]


def _namespace() -> str:
    try:
        return str(Path("/proc/self/ns/pid").readlink())
    except OSError:
        return "-"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (22nd field of its stat), or "-"
    when there is no such process: a pid reused later starts at another time."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (OSError, IndexError):
        return "-"


def remove_dead_locks(directory: Path, keep: str) -> None:
    """Delete lock files whose owner died (after their runs were recovered)."""
    for path in directory.glob(f"*{_SUFFIX}"):
        name = path.name.removesuffix(_SUFFIX)
        if name != keep and not owner_alive(directory, name):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
