"""One attempt of one task: a `/bin/sh -c` subprocess in its own process group.

Output is read in chunks and handed to a sink line by line (with the time it was read). A
timeout or a cancel kills the whole group: SIGTERM, then SIGKILL after a grace period. When
the main process exits, whatever it left behind in its group is killed the same way, so a
task never leaves orphans running (and never holds shipdeck's pipes open forever).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shipdeck.model import LogStream

KILL_GRACE = 2.0
PIPE_DRAIN = 2.0
"""How long to keep reading output after the task's group is gone."""
MAX_LINE = 1 << 20
"""Longer lines are split so one runaway line cannot take unbounded memory."""
_READ_SIZE = 1 << 16

LineSink = Callable[[LogStream, float, list[str]], None]


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
    env: Mapping[str, str],
    timeout: float | None,  # noqa: ASYNC109 - the task's own limit, enforced on its process group
    sink: LineSink,
    cancel: asyncio.Event,
    on_spawn: Callable[[int], None] = lambda pid: None,
    kill_grace: float = KILL_GRACE,
) -> AttemptOutcome:
    try:
        process = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
    except OSError as error:
        return AttemptOutcome(exit_code=None, spawn_error=f"could not start: {error}")
    group = process.pid
    on_spawn(group)
    assert process.stdout is not None and process.stderr is not None
    pumps = [
        asyncio.create_task(_pump(process.stdout, LogStream.OUT, sink)),
        asyncio.create_task(_pump(process.stderr, LogStream.ERR, sink)),
    ]
    exited = asyncio.create_task(process.wait())
    cancelled = asyncio.create_task(cancel.wait())
    timed_out = was_cancelled = False
    try:
        done, _ = await asyncio.wait(
            {exited, cancelled}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if exited not in done:
            was_cancelled = cancelled in done
            timed_out = not was_cancelled
            await kill_group(group, kill_grace)
        await exited
        if group_alive(group):
            await kill_group(group, kill_grace)
        await _drain(pumps)
    finally:
        cancelled.cancel()
        if not exited.done():
            # Our caller was cancelled: never leave the group running behind us.
            signal_group(group, signal.SIGKILL)
            exited.cancel()
        for pump in pumps:
            pump.cancel()
    return AttemptOutcome(
        exit_code=process.returncode, timed_out=timed_out, cancelled=was_cancelled
    )


async def _pump(reader: asyncio.StreamReader, stream: LogStream, sink: LineSink) -> None:
    pending = bytearray()
    while chunk := await reader.read(_READ_SIZE):
        pending += chunk
        if b"\n" not in chunk and len(pending) < MAX_LINE:
            continue
        now = time.time()
        parts = pending.split(b"\n")
        rest = parts.pop()
        lines = [_decode(part) for part in parts]
        while len(rest) >= MAX_LINE:
            lines.append(_decode(rest[:MAX_LINE]))
            rest = rest[MAX_LINE:]
        pending = bytearray(rest)
        if lines:
            sink(stream, now, lines)
    if pending:
        sink(stream, time.time(), [_decode(bytes(pending))])


def _decode(raw: bytes | bytearray) -> str:
    text = raw.decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\r") else text


async def _drain(pumps: list[asyncio.Task[None]]) -> None:
    _, still_reading = await asyncio.wait(pumps, timeout=PIPE_DRAIN)
    for pump in still_reading:
        pump.cancel()


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
