"""The output keeper: a small process that holds tasks' pipes, so their output outlives the engine.

If the engine read a task's stdout and stderr itself, a `kill -9` of the engine would lose what
sat in the pipes (up to 64 KiB each) and the chunk it was handling, and the task would die of
SIGPIPE at its next write. Like containerd's shim or conmon, the keeper reads the pipes instead:
it stamps each line with the time it was read and its stream, appends it to the task's durable
log (one write per batch), and tells the engine, which follows the log. When the engine dies
the keeper goes on until its tasks have closed their output, then exits.

Nor does it outlive them: a process that left a task's group (`setsid cmd &`, a daemon the
task started) may hold the task's output open for hours. While the engine lives, it stops
the keeper reading such an attempt once the task's group is gone (`X`); once the engine is
gone, the keeper does the same itself: when no process of the task's group is left, it
reads what the pipes hold for DRAIN seconds more, then lets the attempt go.

The engine starts it as `python -I -S keeper.py FD` (standard library only: it starts in a
few milliseconds) in a session of its own, with FD one end of a SOCK_SEQPACKET socket pair:

    engine -> keeper  b"A <id> <log path>" + fds [run lock, stdout, stderr] (SCM_RIGHTS):
                      keep this attempt (the log is created on its first line)
                      b"G <id> <group>": its task runs as process group <group>
                      b"X <id>": stop reading it (its output did not end with its process group)
    keeper -> engine  b"W <id> <id> ...": lines were appended to these attempts' logs
                      b"D <id> <bytes>": the attempt's output ended (<bytes> appended in all):
                      its log is complete and closed
                      b"E <id> <message>": its log could not be written (output is drained, dropped)

The run lock is the run's log directory, flock'd by the engine; the keeper's copies hold that
lock until the output of each attempt of the run has ended, which is how crash recovery knows
the run's logs are complete.
"""

from __future__ import annotations

import array
import contextlib
import os
import resource
import select
import signal
import socket
import sys
import time

READ_SIZE = 1 << 16
MAX_LINE = 1 << 20
"""Longer lines are split so one runaway line cannot take unbounded memory."""
MAX_FDS = 3
DRAIN = 2.0
"""Seconds a dead engine's attempt is read after its task's process group is gone (the
engine's own PIPE_DRAIN): then whatever outside the group holds its output is let go."""
LOOK_EVERY = 1.0
"""Seconds between looks at the task groups once the engine is gone."""
_FD_SIZE = array.array("i").itemsize
OUT, ERR = "O", "E"


def format_ts(epoch: float) -> str:
    """UTC ISO-8601 with milliseconds and a trailing Z: always 24 characters."""
    millis = int(epoch * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + (
        f".{millis % 1000:03d}Z"
    )


def take_lines(pending: bytearray, chunk: bytes) -> list[str]:
    """Add `chunk` to `pending` and take the complete lines out of it, decoded.

    An empty chunk is the end of the output: what is pending becomes the last line.
    """
    if not chunk:
        lines = [_decode(pending)] if pending else []
        pending.clear()
        return lines
    pending += chunk
    if b"\n" not in chunk and len(pending) < MAX_LINE:
        return []
    parts = pending.split(b"\n")
    rest = parts.pop()
    lines = [_decode(part) for part in parts]
    while len(rest) >= MAX_LINE:
        lines.append(_decode(rest[:MAX_LINE]))
        rest = rest[MAX_LINE:]
    pending[:] = rest
    return lines


def _decode(raw: bytes | bytearray) -> str:
    text = raw.decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\r") else text


def format_lines(ts: float, code: str, lines: list[str]) -> bytes:
    """Log lines read at one moment from one stream: `<ts> <code> <text>\\n` each."""
    prefix = f"{format_ts(ts)} {code} "
    return (prefix + f"\n{prefix}".join(lines) + "\n").encode("utf-8", errors="replace")


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Attempt:
    def __init__(self, number: int, path: bytes, lock: int, stdout: int, stderr: int) -> None:
        self.number = number
        self.path = os.fsdecode(path)
        self.lock = lock
        self.log: int | None = None
        self.written = 0
        self.pipes: dict[int, tuple[str, bytearray]] = {
            stdout: (OUT, bytearray()),
            stderr: (ERR, bytearray()),
        }
        self.failed = False
        self.groups: set[int] | None = None
        """The task's process group (from the engine), or, if the engine died before it
        said, those of the processes holding its pipes when the keeper first looked."""
        self.ends_at: float | None = None
        """When its task's group was found gone (engine gone): stop reading at this time."""


class Keeper:
    def __init__(self, engine: socket.socket) -> None:
        self._engine: socket.socket | None = engine
        self._engine_fd = engine.fileno()
        self._poll = select.epoll()
        self._poll.register(self._engine_fd, select.EPOLLIN)
        self._attempts: dict[int, _Attempt] = {}
        self._pipes: dict[int, _Attempt] = {}
        self._written: set[int] = set()

    def run(self) -> None:
        looked = 0.0
        while self._engine is not None or self._attempts:
            timeout = -1.0 if self._engine is not None else LOOK_EVERY / 4
            for fd, _ in self._poll.poll(timeout):
                if fd == self._engine_fd:
                    self._receive()
                elif (attempt := self._pipes.get(fd)) is not None:
                    self._read(attempt, fd)
            if self._engine is None and time.monotonic() - looked >= LOOK_EVERY / 4:
                looked = time.monotonic()
                self._let_go_of_orphans(looked)
            if self._written:
                written = [number for number in self._written if number in self._attempts]
                self._written.clear()
                if written:
                    self._tell(b"W " + " ".join(map(str, written)).encode())

    def _receive(self) -> None:
        assert self._engine is not None
        while self._engine is not None:
            try:
                data, ancillary, _, _ = self._engine.recvmsg(
                    1 << 13, socket.CMSG_SPACE(MAX_FDS * _FD_SIZE), socket.MSG_DONTWAIT
                )
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, ancillary = b"", []
            fds = array.array("i")
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            if not data:
                self._engine_gone()
                return
            command, _, argument = data.partition(b" ")
            if command == b"A" and len(fds) == MAX_FDS:
                number, _, path = argument.partition(b" ")
                self._attach(int(number), path, *fds)
            elif command == b"G":
                number, _, group = argument.partition(b" ")
                if (attempt := self._attempts.get(int(number))) is not None:
                    attempt.groups = {int(group)}
            elif command == b"X":
                self._detach(int(argument))
            else:
                for fd in fds:
                    os.close(fd)

    def _engine_gone(self) -> None:
        """The engine exited (or died): keep draining the attempts, tell no one."""
        if self._engine is not None:
            self._poll.unregister(self._engine_fd)
            self._engine.close()
            self._engine = None

    def _attach(self, number: int, path: bytes, lock: int, stdout: int, stderr: int) -> None:
        attempt = _Attempt(number, path, lock, stdout, stderr)
        self._attempts[number] = attempt
        for fd in (stdout, stderr):
            # Non-blocking although read only when epoll says readable: a number closed and
            # reused within one batch of events may come with a stale event.
            os.set_blocking(fd, False)
            self._pipes[fd] = attempt
            self._poll.register(fd, select.EPOLLIN)

    def _detach(self, number: int) -> None:
        """Stop reading an attempt, keeping what its pipes hold now."""
        attempt = self._attempts.get(number)
        if attempt is not None:
            for fd in list(attempt.pipes):
                for _ in range(64):  # a writer that never stops cannot keep us here
                    if not self._read(attempt, fd):
                        break
                if fd in attempt.pipes:
                    self._end_pipe(attempt, fd)

    def _let_go_of_orphans(self, now: float) -> None:
        """The engine is gone: attempts whose task's group is gone are read for DRAIN
        seconds more (their output normally ends at once), then let go."""
        for attempt in list(self._attempts.values()):
            if attempt.ends_at is not None:
                if now >= attempt.ends_at:
                    self._detach(attempt.number)
                continue
            if attempt.groups is None:
                attempt.groups = holder_groups(attempt.pipes)
            if not any(group_alive(group) for group in attempt.groups):
                attempt.ends_at = now + DRAIN

    def _read(self, attempt: _Attempt, fd: int) -> bool:
        """Read what the pipe holds (up to READ_SIZE); False when it held nothing now."""
        try:
            chunk = os.read(fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            chunk = b""
        if not chunk:
            self._end_pipe(attempt, fd)
            return False
        code, pending = attempt.pipes[fd]
        lines = take_lines(pending, chunk)
        if lines:
            self._append(attempt, time.time(), code, lines)
        return True

    def _append(self, attempt: _Attempt, ts: float, code: str, lines: list[str]) -> None:
        if attempt.failed:
            return  # keep draining the pipes so the task never blocks on a full one
        data = format_lines(ts, code, lines)
        try:
            if attempt.log is None:
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
                attempt.log = os.open(attempt.path, flags, 0o644)
            write_all(attempt.log, data)
        except OSError as error:
            attempt.failed = True
            self._tell(f"E {attempt.number} could not write the log: {error}".encode())
            return
        attempt.written += len(data)
        self._written.add(attempt.number)

    def _end_pipe(self, attempt: _Attempt, fd: int) -> None:
        code, pending = attempt.pipes.pop(fd)
        del self._pipes[fd]
        self._poll.unregister(fd)
        os.close(fd)
        lines = take_lines(pending, b"")
        if lines:
            self._append(attempt, time.time(), code, lines)
        if not attempt.pipes:
            del self._attempts[attempt.number]
            if attempt.log is not None:
                os.close(attempt.log)
            os.close(attempt.lock)  # the last attempt of a dead engine's run releases its lock
            self._tell(b"D %d %d" % (attempt.number, attempt.written))

    def _tell(self, message: bytes) -> None:
        if self._engine is None:
            return
        try:
            self._engine.send(message)
        except OSError:
            self._engine_gone()


def _process_group(pid: str) -> int | None:
    """The process group of a live process (None for a zombie, or one that is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
        fields = stat[stat.rindex(b")") + 2 :].split()
        return None if fields[0] in (b"Z", b"X") else int(fields[2])
    except (OSError, ValueError, IndexError):
        return None


def _pids() -> list[str]:
    try:
        entries = os.listdir("/proc")  # noqa: PTH208 - no pathlib: the keeper starts in ms
        return [entry for entry in entries if entry.isdigit()]
    except OSError:
        return []


def group_alive(group: int) -> bool:
    """Whether a process of `group` is still running (zombies do not count)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(_process_group(pid) == group for pid in _pids())


def holder_groups(pipes: dict[int, tuple[str, bytearray]]) -> set[int]:
    """The process groups of the other processes that hold these pipes (their write ends:
    the keeper holds the only read ends)."""
    names = set()
    for fd in pipes:
        with contextlib.suppress(OSError):
            names.add(f"pipe:[{os.fstat(fd).st_ino}]")
    groups: set[int] = set()
    me = str(os.getpid())
    for pid in _pids():
        if pid == me:
            continue
        with contextlib.suppress(OSError):
            for entry in os.listdir(f"/proc/{pid}/fd"):  # noqa: PTH208 - as in _pids
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{entry}") in names:  # noqa: PTH115
                        group = _process_group(pid)
                        if group is not None:
                            groups.add(group)
                        break
    return groups


def _raise_fd_limit() -> None:
    """Three fds per task: take the hard limit, so a wide DAG does not run out."""
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _raise_fd_limit()
    engine = socket.socket(fileno=int(argv[1]))
    engine.setblocking(True)
    Keeper(engine).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
