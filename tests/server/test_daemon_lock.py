"""One workspace daemon per workspace, always: it holds a lock for its whole life, a second one
exits quietly, a stop followed by a start never leaves two, and a daemon that loses its socket
goes away so that its clients move to the one that has it. Real daemons, real processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from shipdeck.engine.runs.owners import owner_alive
from shipdeck.model import EventKind, WorkspaceSpec
from shipdeck.runners import daemon
from shipdeck.runners.remote import RemoteRunner
from tests.server.conftest import eventually


def daemon_pids(workspace: WorkspaceSpec) -> list[int]:
    """Live `shipdeck -C ROOT serve --daemon` processes of the workspace (zombies excluded)."""
    root = os.fsencode(str(workspace.root))
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if b"--daemon" in argv and b"serve" in argv and root in argv and state != "Z":
            found.append(int(entry.name))
    return found


def only_daemon_is(workspace: WorkspaceSpec, pid: int) -> Callable[[], bool]:
    return lambda: daemon_pids(workspace) == [pid]


def open_engines(workspace: WorkspaceSpec) -> int:
    """Processes that have the workspace's engine open now (each holds an owner lock)."""
    owners = workspace.state_dir / "owners"
    return sum(owner_alive(owners, path.stem) for path in owners.glob("*.lock"))


@contextlib.contextmanager
def most_engines_open(workspace: WorkspaceSpec) -> Iterator[list[int]]:
    """Samples `open_engines` every few milliseconds in a thread; yields [the most seen]."""
    most = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            most[0] = max(most[0], open_engines(workspace))
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield most
    finally:
        done.set()
        thread.join()


class Follower:
    """What a TUI does: a client that revives the daemon, following the event stream."""

    def __init__(self, client: RemoteRunner) -> None:
        self.client = client
        self.finished_runs: set[int] = set()
        """Runs seen to succeed, in events or in the state refetched after a reset."""
        self.resets = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        after = await self.client.last_seq()
        self._task = asyncio.create_task(self._follow(after))

    async def _follow(self, after: int) -> None:
        while True:
            try:
                page = await self.client.wait_events(after, wait=1.0)
            except Exception:  # a request that met the daemon going away; the TUI retries
                await asyncio.sleep(0.1)
                continue
            after = page.last_seq
            if page.reset:  # a new daemon: what happened before it is refetched
                self.resets += 1
                runs = await self.client.runs()
                self.finished_runs |= {run.id for run in runs if run.status.value == "succeeded"}
            for event in page.events:
                succeeded = getattr(event.data, "status", None) == "succeeded"
                if event.kind == EventKind.RUN and event.run_id is not None and succeeded:
                    self.finished_runs.add(event.run_id)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()


@contextlib.asynccontextmanager
async def followers(workspace: WorkspaceSpec, count: int) -> AsyncIterator[list[Follower]]:
    started = []
    try:
        for _ in range(count):
            follower = Follower(await daemon.attach(workspace, announce=lambda _: None))
            started.append(follower)
            await follower.start()
        yield started
    finally:
        for follower in started:
            await follower.close()


async def long_polls(workspace: WorkspaceSpec) -> None:
    """A client that always has a long poll open (a TUI's first read of the events is one)."""
    while True:
        client = daemon.open_daemon_client(workspace)
        try:
            await client.wait_events(await client.last_seq(), wait=20)
        except Exception:
            await asyncio.sleep(0.05)
        finally:
            await client.close()


def shipdeck(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIPDECK_IN_PROCESS"}
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def tracebacks(workspace: WorkspaceSpec) -> list[str]:
    lines = daemon.log_path(workspace).read_text().splitlines()
    return [lines[i - 1] for i, line in enumerate(lines) if line.startswith("Traceback")]


async def run_seen_by_all(client: RemoteRunner, watching: list[Follower]) -> int:
    """Start a run through `client`; its id once every follower has seen it finish."""
    run = await client.start_run("build")
    await eventually(
        lambda: all(run.id in follower.finished_runs for follower in watching), within=30
    )
    return run.id


@pytest.mark.timeout(400)
async def test_stop_then_start_never_leaves_two_daemons(managed: WorkspaceSpec) -> None:
    """`serve --stop` with TUI-like clients attached (they revive the daemon at once) and
    another client a moment later, twenty times: one daemon, the one on the socket, and every
    client sees its runs; never two engines open at once; no traceback in the log."""
    shuffle = random.Random(12)
    poller = asyncio.create_task(long_polls(managed))
    try:
        async with followers(managed, 2) as watching:
            with most_engines_open(managed) as most:
                for loop in range(20):
                    await asyncio.sleep(0.3)  # the long poll is open again
                    stop = await asyncio.to_thread(shipdeck, managed.root, "serve", "--stop")
                    assert stop.returncode == 0, stop.stderr
                    assert stop.stdout.startswith("stopped runner for"), stop.stdout
                    await asyncio.sleep(shuffle.uniform(0, 1.5))
                    later = await daemon.attach(managed, announce=lambda _: None)
                    try:
                        await run_seen_by_all(later, watching)
                        pid = (await later.info()).pid
                    finally:
                        await later.close()
                    await eventually(only_daemon_is(managed, pid), within=10)
                    assert most[0] <= 1, f"two daemons had the engine open (loop {loop})"
    finally:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
    assert tracebacks(managed) == []


async def test_a_second_daemon_exits_quietly_and_clients_stay_with_the_first(
    managed: WorkspaceSpec,
) -> None:
    client = await daemon.attach(managed, announce=lambda _: None)
    try:
        first = (await client.info()).pid
        bound = daemon.socket_path(managed).stat().st_ino
        second = daemon.spawn(managed)
        assert await asyncio.to_thread(second.wait, 30) == 0
        log = daemon.log_path(managed).read_text()
        assert f"a runner already serves {managed.root} (pid {first}); exiting" in log
        assert daemon.socket_path(managed).stat().st_ino == bound  # left alone
        assert daemon.pid_path(managed).read_text().strip() == str(first)
        assert (await client.info()).pid == first
        assert daemon_pids(managed) == [first]
    finally:
        await client.close()
    assert tracebacks(managed) == []


async def test_a_daemon_that_lost_its_socket_exits_and_its_clients_follow_the_new_one(
    managed: WorkspaceSpec,
) -> None:
    """Its socket removed (a cleaner of $XDG_RUNTIME_DIR, a stray rm): the next client starts
    a new daemon, so the old one must go, or the TUIs streaming from it would show "live"
    while they receive nothing and their actions go to a daemon nobody else sees."""
    async with followers(managed, 1) as watching:
        old = (await watching[0].client.info()).pid
        daemon.socket_path(managed).unlink()
        await eventually(lambda: daemon._gone(old), within=10)
        later = await daemon.attach(managed, announce=lambda _: None)
        try:
            await run_seen_by_all(later, watching)
            new = (await later.info()).pid
        finally:
            await later.close()
        assert new != old
        assert daemon_pids(managed) == [new]
    log = daemon.log_path(managed).read_text()
    assert f"{daemon.socket_path(managed)} was removed; exiting" in log
    assert tracebacks(managed) == []


async def test_a_forced_stop_answers_waiting_clients_without_a_traceback(
    managed: WorkspaceSpec,
) -> None:
    """Requests still waiting when the daemon stops (a run's wait, a long poll of the events)
    get an answer, and the log has no traceback of requests cut short."""
    client = await daemon.attach(managed, announce=lambda _: None)
    waiter = daemon.open_daemon_client(managed)  # does not revive the daemon
    try:
        run = await client.start_run("slow")
        waiting = asyncio.gather(
            waiter.wait_run(run.id),
            waiter.wait_events(await waiter.last_seq(), wait=30),
            return_exceptions=True,
        )
        await asyncio.sleep(0.5)
        stop = await asyncio.to_thread(shipdeck, managed.root, "serve", "--stop", "--force")
        assert stop.returncode == 0, stop.stderr
        assert f"cancelled #{run.id} slow" in stop.stdout
        answers = await asyncio.wait_for(waiting, timeout=10)
        assert all(
            not isinstance(answer, BaseException) or "unreachable" in str(answer)
            for answer in answers
        ), answers
    finally:
        await waiter.close()
        await client.close()
    assert tracebacks(managed) == []


@pytest.fixture
async def managed(workspace: WorkspaceSpec) -> AsyncIterator[WorkspaceSpec]:
    """The test workspace; its daemon is stopped after the test, and any other one killed."""
    try:
        yield workspace
    finally:
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)
        for pid in daemon_pids(workspace):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
