"""The workspace daemon: one runner per workspace, on .shipdeck/runner.sock, started on demand.

Clients (CLI, TUI) attach to it, so pipelines outlive the terminal that started them and every
client sees the same runs live. If it is not running (or died), the next client starts it;
the engine's crash recovery then deals with runs the dead one left behind.

It exits by itself once idle ($SHIPDECK_IDLE_EXIT seconds, 15 min by default; see
cli/serve.py): it removes its socket before it stops accepting, so a client arriving then
finds no socket (or, after a crash, one that refuses) and `attach` starts a new daemon. That
one waits for the old one to let go of the workspace's lock (server/daemon_lock.py), so there
is never more than one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path

from shipdeck.config import without_credentials
from shipdeck.errors import Refused, Unavailable
from shipdeck.model import Run, WorkspaceSpec
from shipdeck.runners.remote import RemoteRunner, RunnerInfo
from shipdeck.state_dir import prepare_state_dir

SOCKET_PATH_MAX = 107
"""Bytes of a Unix socket's path (sun_path holds 108, with the closing NUL)."""
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
PROBE_TIMEOUT = 5.0
LOG_ROTATE_BYTES = 5 * 1024 * 1024

# Daemons this process started: kept so they are reaped (no zombies in a long-lived TUI) and
# so Python does not warn about a child still running when its Popen is collected.
_spawned: list[subprocess.Popen[bytes]] = []


def socket_path(workspace: WorkspaceSpec) -> Path:
    """`.shipdeck/runner.sock`; for a workspace so deep that this path does not fit in a Unix
    socket address, a short one named after the workspace in the user's private directory."""
    path = workspace.state_dir / "runner.sock"
    if len(os.fsencode(path)) <= SOCKET_PATH_MAX:
        return path
    digest = hashlib.sha256(os.fsencode(workspace.root)).hexdigest()[:24]
    return private_socket_dir() / f"{digest}.sock"


def private_socket_dir() -> Path:
    """$XDG_RUNTIME_DIR/shipdeck, else $TMPDIR/shipdeck-UID: made 0700, and refused unless it
    is this user's own directory and no one else's to write in (a socket another user placed
    there would receive this user's requests)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    uid = os.getuid()
    if runtime:
        directory = Path(runtime) / "shipdeck"
    else:
        directory = Path(tempfile.gettempdir()) / f"shipdeck-{uid}"
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700, parents=True)
    info = directory.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077:
        raise Refused(
            f"{directory} holds the runner sockets of deep workspaces and must be a directory "
            f"of yours with mode 0700; remove it, or set XDG_RUNTIME_DIR"
        )
    return directory


def pid_path(workspace: WorkspaceSpec) -> Path:
    return workspace.state_dir / "runner.pid"


def log_path(workspace: WorkspaceSpec) -> Path:
    return workspace.state_dir / "runner.log"


def lock_path(workspace: WorkspaceSpec) -> Path:
    """What the daemon holds locked for its whole life (server/daemon_lock.py)."""
    return workspace.state_dir / "daemon.lock"


def daemon_url(workspace: WorkspaceSpec) -> str:
    return f"unix:{socket_path(workspace)}"


def open_daemon_client(workspace: WorkspaceSpec) -> RemoteRunner:
    return RemoteRunner(daemon_url(workspace), name="local", timeout=30.0)


def _reviving(workspace: WorkspaceSpec, client: RemoteRunner, start: bool) -> RemoteRunner:
    """With `start`, the client starts a new daemon when this one is gone (killed, crashed,
    idled out) and carries on: a TUI left open overnight comes back by itself instead of
    showing the runner offline for good."""
    if start:

        async def restart() -> None:
            await _restart(workspace)

        client.revive_with(restart)
    return client


async def _restart(workspace: WorkspaceSpec) -> None:
    """Start the daemon unless another client already has (quietly: a TUI owns the terminal,
    and the daemon's own log says when it started)."""
    client = open_daemon_client(workspace)  # a plain one: probing it cannot revive again
    try:
        async with _locked(workspace):
            await _start_unless_running(workspace, client)
    finally:
        await client.close()


async def _spawn_unless_running(
    workspace: WorkspaceSpec, client: RemoteRunner
) -> subprocess.Popen[bytes] | None:
    """Under the start lock: a daemon spawned now, or None when one answers `client`
    (another client may have started it while this one waited for the lock)."""
    return None if await _answers(workspace, client) else spawn(workspace)


async def _start_unless_running(workspace: WorkspaceSpec, client: RemoteRunner) -> int | None:
    """Under the start lock: the pid of a daemon started now and answering, or None when
    one was running already."""
    process = await _spawn_unless_running(workspace, client)
    if process is None:
        return None
    pid = (await _wait_started(workspace, process, client)).pid
    return pid if pid == process.pid else None


@dataclass(frozen=True)
class DaemonStatus:
    workspace: Path
    socket: Path
    info: RunnerInfo | None
    """None when nothing answers on the socket."""
    latency: float | None
    pid_file: int | None
    """The pid the daemon recorded, when it left one behind."""

    @property
    def running(self) -> bool:
        return self.info is not None


async def probe(workspace: WorkspaceSpec) -> tuple[RunnerInfo, float] | None:
    """The daemon's info and round trip, or None when it does not answer."""
    if not socket_path(workspace).exists():
        return None
    client = RemoteRunner(daemon_url(workspace), name="local", timeout=PROBE_TIMEOUT)
    try:
        return await client.ping()
    except Unavailable:
        return None
    finally:
        await client.close()


async def runs_in_progress(workspace: WorkspaceSpec, info: RunnerInfo) -> list[Run]:
    """The runs the daemon that answered with `info` executes, oldest first: stopping it
    cancels them. Of a daemon too old to list them, every run queued or running among the
    newest 1,000 (some may belong to other processes)."""
    client = open_daemon_client(workspace)
    try:
        if info.active_runs is None:
            runs = list(reversed(await client.runs(limit=1000)))  # listed newest first
        else:
            runs = [(await client.run(run_id)).run for run_id in info.active_runs]  # oldest first
    finally:
        await client.close()
    return [run for run in runs if not run.status.finished]


def _read_pid(workspace: WorkspaceSpec) -> int | None:
    try:
        return int(pid_path(workspace).read_text().strip())
    except (OSError, ValueError):
        return None


async def status(workspace: WorkspaceSpec) -> DaemonStatus:
    answer = await probe(workspace)
    info, latency = answer if answer is not None else (None, None)
    return DaemonStatus(
        workspace=workspace.root,
        socket=socket_path(workspace),
        info=info,
        latency=latency,
        pid_file=_read_pid(workspace),
    )


@contextlib.contextmanager
def _start_lock(workspace: WorkspaceSpec) -> Iterator[None]:
    """Serialize starting the daemon between clients of one workspace."""
    prepare_state_dir(workspace.state_dir)
    fd = os.open(workspace.state_dir / "runner.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _open_log(workspace: WorkspaceSpec) -> int:
    prepare_state_dir(workspace.state_dir)
    path = log_path(workspace)
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > LOG_ROTATE_BYTES:
            path.replace(path.with_name(path.name + ".1"))
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)


def spawn(workspace: WorkspaceSpec) -> subprocess.Popen[bytes]:
    """Start `shipdeck serve --daemon` for the workspace, detached from this terminal."""
    _spawned[:] = [process for process in _spawned if process.poll() is None]
    log = _open_log(workspace)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "shipdeck", "-C", str(workspace.root), "serve", "--daemon"],
            cwd=workspace.root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            # The daemon needs no client's token, and its tasks could read its environment.
            env=without_credentials(os.environ),
        )
    finally:
        os.close(log)
    _spawned.append(process)
    return process


def _last_log_line(workspace: WorkspaceSpec) -> str:
    try:
        lines = log_path(workspace).read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"


async def _wait_started(
    workspace: WorkspaceSpec, process: subprocess.Popen[bytes], client: RemoteRunner
) -> RunnerInfo:
    """The info of the daemon that answers once `process` has started. That is `process`
    itself, unless another daemon owned the workspace already (one that was stopping, or one
    started by hand): then `process` exits 0 at once, and the other one answers."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            return await client.info()
        except Unavailable:
            pass
        code = process.poll()
        if code:
            raise Unavailable(
                f"the runner for {workspace.root} exited at start (code {code}): "
                f"{_last_log_line(workspace)}"
            )
        if time.monotonic() > deadline:
            raise Unavailable(
                f"the runner for {workspace.root} did not answer within {START_TIMEOUT:.0f}s; "
                f"see {log_path(workspace)}"
            )
        await asyncio.sleep(0.05)


def _announce(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def attach(
    workspace: WorkspaceSpec,
    *,
    start: bool = True,
    announce: Callable[[str], None] = _announce,
) -> RemoteRunner:
    """A client for the workspace daemon, starting the daemon first when it is not running
    (no socket, a socket that refuses or drops the connection: a daemon that died or idled out).

    Every request restarts the daemon's idle clock, and an open connection (an event stream,
    a request, a keep-alive connection until the server's 5 s keep-alive timeout) holds it."""
    client = open_daemon_client(workspace)
    try:
        if await _answers(workspace, client):
            return _reviving(workspace, client, start)
        if not start:
            raise Unavailable(f"no runner is running for {workspace.root}")
        async with _locked(workspace):
            started = await _start_unless_running(workspace, client)
        if started is not None:
            announce(f"started runner for {workspace.root} (pid {started})")
        return _reviving(workspace, client, start)
    except BaseException:
        await client.close()
        raise


async def attach_lazily(workspace: WorkspaceSpec) -> RemoteRunner:
    """A client for the workspace daemon that does not wait for a daemon it has to start.

    The daemon is spawned at once, and the start lock is held in the background until it
    answers; the client's first requests find no socket, revive, wait on that lock and are
    then sent. Meanwhile the caller goes on: the TUI imports Textual and builds its screens
    on this core while the daemon boots on another (a start after an idle exit). Quiet, like
    a revive (the TUI owns the terminal); a daemon that cannot start fails those requests
    with the reason."""
    client = open_daemon_client(workspace)
    try:
        if not await _answers(workspace, client):
            lock = contextlib.AsyncExitStack()
            await lock.enter_async_context(_locked(workspace))
            try:
                process = await _spawn_unless_running(workspace, client)
            except BaseException:
                await lock.aclose()
                raise
            if process is None:
                await lock.aclose()
            else:
                _in_background(_hold_until_started(workspace, process, lock))
    except BaseException:
        await client.close()
        raise
    return _reviving(workspace, client, True)


async def _hold_until_started(
    workspace: WorkspaceSpec, process: subprocess.Popen[bytes], lock: contextlib.AsyncExitStack
) -> None:
    probe = open_daemon_client(workspace)
    try:
        async with lock:
            await _wait_started(workspace, process, probe)
    finally:
        await probe.close()


_background: set[asyncio.Task[None]] = set()


def _in_background(work: Coroutine[object, object, None]) -> None:
    """Run `work` without waiting for it; its failure is reported by whoever needs the
    daemon next (a request that revives it)."""
    task = asyncio.ensure_future(work)
    _background.add(task)

    def done(finished: asyncio.Task[None]) -> None:
        _background.discard(finished)
        if not finished.cancelled():
            finished.exception()  # retrieved: not "never retrieved"

    task.add_done_callback(done)


async def _answers(workspace: WorkspaceSpec, client: RemoteRunner) -> bool:
    """True when the daemon answers `client` (whose connection then stays open for reuse)."""
    if not socket_path(workspace).exists():
        return False
    try:
        await client.info(seconds=PROBE_TIMEOUT)
    except Unavailable:
        return False
    return True


@contextlib.asynccontextmanager
async def _locked(workspace: WorkspaceSpec) -> AsyncIterator[None]:
    lock = _start_lock(workspace)
    await asyncio.to_thread(lock.__enter__)
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def _gone(pid: int) -> bool:
    """True when `pid` has exited (a zombie nobody reaped counts as exited)."""
    try:
        with Path(f"/proc/{pid}/stat").open() as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


async def stop(workspace: WorkspaceSpec) -> int | None:
    """Stop the workspace daemon; its pid, or None when none was running."""
    answer = await probe(workspace)
    if answer is None:
        return None
    pid = answer[0].pid
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while not _gone(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        await asyncio.sleep(0.05)
    return pid
