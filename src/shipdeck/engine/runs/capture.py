"""The engine's side of the output keeper (engine/runs/keeper.py): started on first use, handed each
attempt's log and pipes, and listened to for "lines written" and "output ended".

If the keeper dies while the engine lives, the attempts it held end with an error (their tasks
lose their reader) and the next attempt starts a new keeper.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path

KEEPER = Path(__file__).with_name("keeper.py")
CLOSE_WAIT = 2.0
"""How long closing waits for the keeper to exit (it does once its attempts' output ended)."""
_RECEIVE = 1 << 16


class CaptureError(Exception):
    """The attempt's output could not be kept (its log could not be written, the keeper died)."""


class Captured:
    """One attempt's output, held by the keeper."""

    def __init__(self, keeper: OutputKeeper, number: int, on_output: Callable[[], None]) -> None:
        self._keeper = keeper
        self.number = number
        self.on_output = on_output
        """Called when lines were appended to the log, and once more when the output ended
        (unless the attempt wrote nothing)."""
        loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        """Completes if the keeper died: the task's output goes nowhere any more."""
        self.error: str | None = None

    def spawned(self, group: int) -> None:
        """The task runs as process group `group`: a keeper whose engine died lets the
        attempt go once that group is gone (whatever outside it holds the output open)."""
        if not self.done.done():
            self._keeper.send(b"G %d %d" % (self.number, group), [])

    def detach(self) -> None:
        """Stop reading (a process outside the task's group still holds its output open)."""
        if not self.done.done():
            self._keeper.send(b"X %d" % self.number, [])

    def _finish(self, error: str | None = None, *, wrote: bool = True) -> None:
        if error is not None and self.error is None:
            self.error = error
        if not self.done.done():
            if wrote:
                self.on_output()
            self.done.set_result(None)


class OutputKeeper:
    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._attempts: dict[int, Captured] = {}
        self._numbers = 0
        self._outbox: deque[tuple[bytes, list[int]]] = deque()
        self._retired: list[subprocess.Popen[bytes]] = []
        """Keepers that died while this engine ran: reaped at close."""

    def attach(
        self, log: Path, lock: int, stdout: int, stderr: int, on_output: Callable[[], None]
    ) -> Captured:
        """Hand the keeper an attempt's log and the read ends of its pipes, with `lock`, a
        copy of its run's lock (output.lock_run_logs) to hold until the attempt's output ends.

        The keeper owns the three fds from here on (this process closes its copies).
        """
        if self._socket is None:
            try:
                self._start()
            except OSError as error:
                for fd in (lock, stdout, stderr):
                    os.close(fd)
                raise CaptureError(f"could not start the output keeper: {error}") from None
        self._numbers += 1
        captured = Captured(self, self._numbers, on_output)
        self._attempts[captured.number] = captured
        self.send(b"A %d %s" % (captured.number, os.fsencode(log)), [lock, stdout, stderr])
        return captured

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", str(KEEPER), str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
                # Its own session: a terminal's ^C to the engine is not for it. No environment:
                # it needs none, and crash recovery finds tasks by the markers in theirs.
                start_new_session=True,
                env={},
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        self._socket = ours
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(ours.fileno(), self._receive)

    def send(self, message: bytes, fds: list[int]) -> None:
        """Send now, or once the socket has room; the fds are closed once sent (or lost)."""
        if self._socket is None:
            for fd in fds:
                os.close(fd)
            return
        self._outbox.append((message, fds))
        if len(self._outbox) == 1:
            self._flush()

    def _flush(self) -> None:
        assert self._socket is not None and self._loop is not None
        while self._outbox:
            message, fds = self._outbox[0]
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
            try:
                self._socket.sendmsg([message], ancillary if fds else [])
            except (BlockingIOError, InterruptedError):
                self._loop.add_writer(self._socket.fileno(), self._flush)
                return
            except OSError as error:
                self._lost(f"the output keeper exited ({error})")
                return
            self._outbox.popleft()
            for fd in fds:
                os.close(fd)
        self._loop.remove_writer(self._socket.fileno())

    def _receive(self) -> None:
        while self._socket is not None:
            try:
                message = self._socket.recv(_RECEIVE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                self._lost(f"the output keeper exited ({error})")
                return
            if not message:
                self._lost("the output keeper exited")
                return
            self._handle(message)

    def _handle(self, message: bytes) -> None:
        command, _, rest = message.partition(b" ")
        if command == b"W":
            for number in rest.split():
                captured = self._attempts.get(int(number))
                if captured is not None:
                    captured.on_output()
        elif command == b"D":
            number, _, written = rest.partition(b" ")
            captured = self._attempts.pop(int(number), None)
            if captured is not None:
                captured._finish(wrote=written != b"0")
        elif command == b"E":
            number, _, text = rest.partition(b" ")
            captured = self._attempts.get(int(number))
            if captured is not None and captured.error is None:
                captured.error = text.decode(errors="replace")

    def _lost(self, reason: str) -> None:
        """The keeper is gone: its attempts end with `reason`; the next attach starts another."""
        self._disconnect()
        attempts, self._attempts = self._attempts, {}
        for captured in attempts.values():
            captured._finish(reason)
            captured.lost.set_result(None)
        if self._process is not None:
            self._retired.append(self._process)
            self._process = None

    def _disconnect(self) -> None:
        if self._socket is not None and self._loop is not None:
            self._loop.remove_reader(self._socket.fileno())
            self._loop.remove_writer(self._socket.fileno())
            self._socket.close()
        self._socket = None
        for _, fds in self._outbox:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._outbox.clear()

    async def close(self) -> None:
        """Let the keeper go: it exits once the output of the attempts it holds has ended."""
        self._disconnect()
        processes, self._retired = self._retired, []
        if self._process is not None:
            processes.append(self._process)
            self._process = None
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(process.wait, CLOSE_WAIT)
