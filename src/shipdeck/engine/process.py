"""One attempt of one task: a `/bin/sh -c` subprocess in its own process group.

Output is read straight from the pipes by event-loop readers and handed to a sink line by
line (with the time it was read). Exit is noticed through a pidfd where the kernel has them
(no thread per child), else through a waiting thread. A timeout or a cancel kills the whole
group: SIGTERM, then SIGKILL after a grace period. When the main process exits, whatever it
left behind in its group is killed the same way, so a task never leaves orphans running
(nor holds shipdeck's pipes open forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from shipdeck.model import LogStream

KILL_GRACE = 2.0
PIPE_DRAIN = 2.0
"""How long to keep reading output after the task's group is gone."""
MAX_LINE = 1 << 20
"""Longer lines are split so one runaway line cannot take unbounded memory."""
_READ_SIZE = 1 << 16

LineSink = Callable[[LogStream, float, list[str]], None]
Environment = Mapping[bytes, bytes]


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    exit_code: int | None
    """None when the process could not be started."""
    timed_out: bool = False
    cancelled: bool = False
    spawn_error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.cancelled


async def run_attempt(
    command: str,
    *,
    cwd: Path,
    env: Environment,
    timeout: float | None,  # noqa: ASYNC109 - the task's own limit, enforced on its process group
    sink: LineSink,
    cancel: asyncio.Future[None],
    on_spawn: Callable[[int], None] = lambda pid: None,
    kill_grace: float = KILL_GRACE,
    spawner: Executor | None = None,
) -> AttemptOutcome:
    """Run `command` until it exits, times out, or `cancel` completes.

    With a `spawner` pool the fork/exec happens off the event loop (it blocks until the
    child has exec'd, which is most of the per-task cost of a short task).
    """
    loop = asyncio.get_running_loop()
    spawning = loop.run_in_executor(spawner, spawn, command, cwd, env)
    try:
        popen = await asyncio.shield(spawning)
    except (OSError, subprocess.SubprocessError) as error:
        return AttemptOutcome(exit_code=None, spawn_error=f"could not start: {error}")
    except asyncio.CancelledError:
        spawning.add_done_callback(_kill_spawned)
        raise
    group = popen.pid
    on_spawn(group)
    child = _Child(popen, sink)
    cancelled = cancel
    timed_out = was_cancelled = False
    try:
        waiters: set[asyncio.Future[Any]] = {child.exited, cancelled}
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if child.exited not in done:
            was_cancelled = cancelled in done
            timed_out = not was_cancelled
            await kill_group(group, kill_grace)
        await child.exited
        if group_alive(group):
            await kill_group(group, kill_grace)
        if not child.drained.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PIPE_DRAIN):
                    await asyncio.shield(child.drained)
    finally:
        if not child.exited.done():
            # Our caller was cancelled: never leave the group running behind us.
            signal_group(group, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=1.0)
        child.close()
    if child.error is not None:
        raise child.error
    return AttemptOutcome(exit_code=popen.returncode, timed_out=timed_out, cancelled=was_cancelled)


def _kill_spawned(spawning: asyncio.Future[subprocess.Popen[bytes]]) -> None:
    """A spawn finished after its attempt was cancelled: kill what it started."""
    if spawning.cancelled() or spawning.exception() is not None:
        return
    popen = spawning.result()
    signal_group(popen.pid, signal.SIGKILL)
    for pipe in (popen.stdout, popen.stderr):
        if pipe is not None:
            pipe.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(timeout=1.0)


def spawn(command: str, cwd: Path, env: Environment) -> subprocess.Popen[bytes]:
    """Start `/bin/sh -c command` as the leader of a new session and process group.

    Synchronous like asyncio's own spawning (the fork is quick); the pipes are then read by
    event-loop readers, never by blocking calls.
    """
    return subprocess.Popen(
        ["/bin/sh", "-c", command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )


class _Child:
    """Event-loop readers on a child's pipes and on its exit."""

    def __init__(self, popen: subprocess.Popen[bytes], sink: LineSink) -> None:
        self._loop = asyncio.get_running_loop()
        self._popen = popen
        self._sink = sink
        self.exited: asyncio.Future[int] = self._loop.create_future()
        self.drained: asyncio.Future[None] = self._loop.create_future()
        self._pipes: dict[int, tuple[IO[bytes], LogStream, bytearray]] = {}
        for pipe, stream in ((popen.stdout, LogStream.OUT), (popen.stderr, LogStream.ERR)):
            assert pipe is not None
            fd = pipe.fileno()
            os.set_blocking(fd, False)
            self._pipes[fd] = (pipe, stream, bytearray())
            self._loop.add_reader(fd, self._readable, fd)
        self._pidfd: int | None = None
        self.error: Exception | None = None
        """The first error the sink raised (e.g. the log could not be written)."""
        try:
            self._pidfd = os.pidfd_open(popen.pid)
        except (AttributeError, OSError):
            # No pidfds (not Linux, or an old kernel): one waiting thread per child, so a
            # long task never delays noticing that another one exited.
            threading.Thread(target=self._wait_in_thread, daemon=True).start()
        else:
            self._loop.add_reader(self._pidfd, self._reap)

    def _wait_in_thread(self) -> None:
        self._popen.wait()
        with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile
            self._loop.call_soon_threadsafe(self._set_exited)

    def _reap(self) -> None:
        self._close_pidfd()
        self._popen.wait()
        self._set_exited()

    def _set_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(self._popen.returncode)

    def _close_pidfd(self) -> None:
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    def _readable(self, fd: int) -> None:
        _, stream, pending = self._pipes[fd]
        try:
            chunk = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        now = time.time()
        if not chunk:
            if pending:
                self._deliver(stream, now, [_decode(pending)])
            self._close_pipe(fd)
            return
        pending += chunk
        if b"\n" not in chunk and len(pending) < MAX_LINE:
            return
        parts = pending.split(b"\n")
        rest = parts.pop()
        lines = [_decode(part) for part in parts]
        while len(rest) >= MAX_LINE:
            lines.append(_decode(rest[:MAX_LINE]))
            rest = rest[MAX_LINE:]
        pending[:] = rest
        if lines:
            self._deliver(stream, now, lines)

    def _deliver(self, stream: LogStream, ts: float, lines: list[str]) -> None:
        if self.error is not None:
            return  # keep draining the pipe so the task never blocks on a full one
        try:
            self._sink(stream, ts, lines)
        except Exception as error:  # raised again by run_attempt once the task has exited
            self.error = error

    def _close_pipe(self, fd: int) -> None:
        pipe, _, _ = self._pipes.pop(fd)
        self._loop.remove_reader(fd)
        pipe.close()
        if not self._pipes and not self.drained.done():
            self.drained.set_result(None)

    def close(self) -> None:
        for fd in list(self._pipes):
            self._close_pipe(fd)
        self._close_pidfd()
        if not self.drained.done():
            self.drained.cancel()


def _decode(raw: bytes | bytearray) -> str:
    text = raw.decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\r") else text


def signal_group(group: int, signum: int) -> bool:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_alive(group: int) -> bool:
    """True if any process of the group is still running (zombies do not count)."""
    if not signal_group(group, 0):
        return False
    try:
        entries = os.listdir("/proc")  # noqa: PTH208 - plain names are all we need
    except FileNotFoundError:
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
            fields = stat[stat.rindex(b")") + 2 :].split()
            if int(fields[2]) == group and fields[0] != b"Z":
                return True
    return False


async def kill_group(group: int, grace: float = KILL_GRACE) -> None:
    """SIGTERM the whole group, then SIGKILL whatever is still alive after `grace` seconds."""
    if not signal_group(group, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        if not group_alive(group):
            return
    signal_group(group, signal.SIGKILL)
