"""One attempt of one task: a `/bin/sh -c` subprocess in its own process group.

Its stdout and stderr are pipes whose read ends go to the output keeper (engine/runs/keeper.py,
through `capture`), which appends what the task prints to its durable log: the output never
depends on this process staying alive. Exit is noticed through a pidfd where the kernel has
them (no thread per child), else through a waiting thread. A timeout or a cancel kills the
whole group: SIGTERM, then SIGKILL after a grace period. When the main process exits,
whatever it left behind in its group is killed the same way, so a task never leaves orphans
running (nor holds its output open forever).
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
from typing import Any

from shipdeck.engine.runs.capture import Captured, CaptureError

KILL_GRACE = 2.0
PIPE_DRAIN = 2.0
"""How long the output may go on after the task's group is gone (a process that left the
group, e.g. with setsid, may hold it open): then the keeper stops reading it."""

Capture = Callable[[int, int], Captured]
"""Hands the read ends of an attempt's stdout and stderr pipes to the output keeper."""
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
    capture: Capture,
    cancel: asyncio.Future[None],
    on_spawn: Callable[[int], None] = lambda pid: None,
    kill_grace: float = KILL_GRACE,
    spawner: Executor | None = None,
) -> AttemptOutcome:
    """Run `command` until it exits, times out, or `cancel` completes, and its output ended.

    With a `spawner` pool the fork/exec happens off the event loop (it blocks until the
    child has exec'd, which is most of the per-task cost of a short task).
    """
    # The keeper holds the read ends before the task exists: whatever the task writes is
    # kept even if this process dies while spawning it.
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        captured = capture(out_read, err_read)
    except BaseException:
        for fd in (out_write, err_write):
            os.close(fd)
        raise
    loop = asyncio.get_running_loop()
    spawning = loop.run_in_executor(spawner, spawn, command, cwd, env, out_write, err_write)
    try:
        popen = await asyncio.shield(spawning)
    except (OSError, subprocess.SubprocessError) as error:
        await captured.done  # the write ends are closed: the output ends at once
        return AttemptOutcome(exit_code=None, spawn_error=f"could not start: {error}")
    except asyncio.CancelledError:
        spawning.add_done_callback(_kill_spawned)
        raise
    group = popen.pid
    captured.spawned(group)
    on_spawn(group)
    child = _Child(popen)
    cancelled = cancel
    timed_out = was_cancelled = False
    try:
        waiters: set[asyncio.Future[Any]] = {child.exited, cancelled, captured.lost}
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if child.exited not in done:
            was_cancelled = cancelled in done
            timed_out = not (was_cancelled or captured.lost in done)
            await kill_group(group, kill_grace)
        await child.exited
        if group_alive(group):
            await kill_group(group, kill_grace)
        if not captured.done.done():
            try:
                async with asyncio.timeout(PIPE_DRAIN):
                    await asyncio.shield(captured.done)
            except TimeoutError:
                captured.detach()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PIPE_DRAIN):  # a keeper that never answers
                        await asyncio.shield(captured.done)
    finally:
        if not child.exited.done():
            # Our caller was cancelled: never leave the group running behind us.
            signal_group(group, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout=1.0)
        child.close()
    if captured.error is not None:
        raise CaptureError(captured.error)
    return AttemptOutcome(exit_code=popen.returncode, timed_out=timed_out, cancelled=was_cancelled)


def _kill_spawned(spawning: asyncio.Future[subprocess.Popen[bytes]]) -> None:
    """A spawn finished after its attempt was cancelled: kill what it started."""
    if spawning.cancelled() or spawning.exception() is not None:
        return
    popen = spawning.result()
    signal_group(popen.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(timeout=1.0)


def spawn(
    command: str, cwd: Path, env: Environment, stdout: int, stderr: int
) -> subprocess.Popen[bytes]:
    """Start `/bin/sh -c command` as the leader of a new session and process group, writing
    to the pipes `stdout` and `stderr` (closed here, whether it starts or not).

    Synchronous like asyncio's own spawning (the fork is quick).
    """
    try:
        return subprocess.Popen(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
    finally:
        os.close(stdout)
        os.close(stderr)


class _Child:
    """Notices a child's exit on the event loop."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._loop = asyncio.get_running_loop()
        self._popen = popen
        self.exited: asyncio.Future[int] = self._loop.create_future()
        self._pidfd: int | None = None
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

    def close(self) -> None:
        self._close_pidfd()


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
