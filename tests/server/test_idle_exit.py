"""The workspace daemon exits on its own once idle, cleanly, and never in the middle of work."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from shipdeck.model import RunStatus, WorkspaceSpec
from shipdeck.runners import daemon
from shipdeck.runners.local import open_local_runner
from shipdeck.server import bind, bound_url, create_app, start_server
from shipdeck.server.idle import Activity, IdleExit
from shipdeck.server.listen import Listen
from shipdeck.workspace import load_workspace
from tests.server.conftest import eventually

IDLE = "1"
"""Seconds of idling before the daemons these tests start exit."""

WORKSPACE = """
[pipelines.build]
[pipelines.build.tasks.compile]
run = "echo compiling"

[pipelines.nap]
[pipelines.nap.tasks.sleep]
run = "echo started; sleep 3"
"""


@pytest.fixture
async def idle_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[WorkspaceSpec]:
    """A workspace whose daemon (inheriting this environment) exits after IDLE seconds."""
    monkeypatch.setenv("SHIPDECK_IDLE_EXIT", IDLE)
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(WORKSPACE)
    workspace = load_workspace(root)
    try:
        yield workspace
    finally:
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)


def spawned(pid: int) -> subprocess.Popen[bytes]:
    return next(process for process in daemon._spawned if process.pid == pid)


async def wait_exit(pid: int, within: float = 20.0) -> int:
    """The exit code of a daemon this process started, once it exits by itself."""
    process = spawned(pid)
    await eventually(lambda: process.poll() is not None, within=within, interval=0.05)
    assert process.returncode is not None
    return process.returncode


def idle_lines(workspace: WorkspaceSpec) -> list[str]:
    log = daemon.log_path(workspace).read_text()
    return [line for line in log.splitlines() if "idle for" in line]


async def start_daemon(workspace: WorkspaceSpec) -> int:
    """Start the daemon and disconnect from it; its pid."""
    client = await daemon.attach(workspace, announce=lambda _: None)
    try:
        return (await client.info()).pid
    finally:
        await client.close()


async def test_an_idle_daemon_exits_and_removes_its_socket_and_pid_file(
    idle_workspace: WorkspaceSpec,
) -> None:
    pid = await start_daemon(idle_workspace)
    assert daemon.pid_path(idle_workspace).read_text().strip() == str(pid)
    assert await wait_exit(pid) == 0
    assert not daemon.socket_path(idle_workspace).exists()
    assert not daemon.pid_path(idle_workspace).exists()
    [line] = idle_lines(idle_workspace)
    assert "shipdeck.server: idle for 1s (no client, no run or deploy in progress): exiting" in line
    assert not (await daemon.status(idle_workspace)).running


async def test_a_run_in_progress_keeps_it_until_the_run_ends(
    idle_workspace: WorkspaceSpec,
) -> None:
    client = await daemon.attach(idle_workspace, announce=lambda _: None)
    try:
        pid = (await client.info()).pid
        run = await client.start_run("nap")
    finally:
        await client.close()  # nobody connected: only the run keeps it busy (3 s > 1 s idle)
    started = time.monotonic()
    assert await wait_exit(pid) == 0
    assert time.monotonic() - started > 2.5  # the sleep (3 s) then the idle second
    # Read after the fact in process: a run cut short would be cancelled ("runner closed").
    runner = await open_local_runner(idle_workspace)
    try:
        detail = await runner.run(run.id)
    finally:
        await runner.close()
    assert detail.run.status == RunStatus.SUCCEEDED
    assert len(idle_lines(idle_workspace)) == 1


async def test_an_open_event_stream_keeps_it_alive(idle_workspace: WorkspaceSpec) -> None:
    pid = await start_daemon(idle_workspace)
    transport = httpx.AsyncHTTPTransport(uds=str(daemon.socket_path(idle_workspace)))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://runner", timeout=30) as http,
        http.stream("GET", "/v1/events/stream") as stream,
    ):
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        assert await anext(lines) == "retry: 1000"
        # Three idle timeouts pass with the stream open (and nothing else): still serving.
        deadline = time.monotonic() + 3 * float(IDLE)
        while time.monotonic() < deadline:
            assert spawned(pid).poll() is None, daemon.log_path(idle_workspace).read_text()
            await asyncio.sleep(0.05)
        assert daemon.socket_path(idle_workspace).exists()
    # The stream closed: now it idles, and exits.
    assert await wait_exit(pid) == 0
    assert not daemon.socket_path(idle_workspace).exists()


def shipdeck(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIPDECK_IN_PROCESS"}
    return subprocess.run(
        [sys.executable, "-m", "shipdeck", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def started_pid(stderr: str) -> int:
    [line] = [line for line in stderr.splitlines() if line.startswith("started runner for")]
    return int(line.rsplit("(pid ", 1)[1].rstrip(")"))


async def test_the_next_command_after_an_idle_exit_starts_a_new_daemon(
    idle_workspace: WorkspaceSpec,
) -> None:
    root = idle_workspace.root
    first = await asyncio.to_thread(shipdeck, root, "run", "build")
    assert first.returncode == 0, first.stderr
    first_pid = started_pid(first.stderr)
    await eventually(lambda: daemon._gone(first_pid), within=20, interval=0.05)
    assert not daemon.socket_path(idle_workspace).exists()

    second = await asyncio.to_thread(shipdeck, root, "run", "build")
    assert second.returncode == 0, second.stderr
    second_pid = started_pid(second.stderr)
    assert second_pid != first_pid
    assert "run #2 build succeeded" in second.stdout, second.stdout  # history kept
    await eventually(lambda: daemon._gone(second_pid), within=20, interval=0.05)


async def test_a_socket_left_refusing_is_replaced_by_the_next_attach(
    idle_workspace: WorkspaceSpec,
) -> None:
    """What a client racing an exit meets: the path still there, nobody accepting."""
    path = daemon.socket_path(idle_workspace)
    sock = bind(Listen(path=path))
    sock.close()  # bound, never served: connections are refused
    assert path.exists()
    said: list[str] = []
    client = await daemon.attach(idle_workspace, announce=said.append)
    try:
        info = await client.info()
        assert said == [f"started runner for {idle_workspace.root} (pid {info.pid})"]
    finally:
        await client.close()
    assert await wait_exit(info.pid) == 0


async def test_the_idle_clock_restarts_on_every_request_and_waits_for_work(
    tmp_path: Path,
) -> None:
    """In process: requests keep a short-timeout server up; it stops once they stop."""
    runner = await open_local_runner(load_workspace(_write(tmp_path / "ws")))
    released: list[bool] = []
    busy = [False]
    try:
        listen = Listen(path=tmp_path / "r.sock")
        sock = bind(listen)
        idle = IdleExit(0.5, lambda: busy[0])
        server = await start_server(
            create_app(runner),
            sock,
            bound_url(listen, sock, False),
            idle=idle,
            unlisten=lambda: released.append(True),
        )
        transport = httpx.AsyncHTTPTransport(uds=str(listen.path))
        async with httpx.AsyncClient(transport=transport, base_url="http://runner") as http:
            deadline = time.monotonic() + 1.5  # three timeouts of short requests
            while time.monotonic() < deadline:
                assert (await http.get("/v1/health")).status_code == 200
                await asyncio.sleep(0.1)
        busy[0] = True  # work in progress, no client: keeps it up
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            assert not server.idle_exited and not released
            await asyncio.sleep(0.05)
        busy[0] = False
        await asyncio.wait_for(server.wait(), timeout=10)
        assert server.idle_exited
        assert released == [True]
    finally:
        await runner.close()


def _write(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "shipdeck.toml").write_text(WORKSPACE)
    return root


def test_idle_exit_counts_any_activity_as_not_idle() -> None:
    now = [100.0]
    busy = [False]
    idle = IdleExit(10, lambda: busy[0], clock=lambda: now[0])
    quiet = Activity(connections=0, requests=0, served=0)
    now[0] = 109.0
    assert not idle.expired(quiet)
    now[0] = 110.0
    assert idle.expired(quiet)
    for activity in (
        Activity(connections=1, requests=0, served=0),  # an open stream or keep-alive
        Activity(connections=0, requests=1, served=0),  # a request its client gave up on
        Activity(connections=0, requests=0, served=1),  # a short request since last look
    ):
        assert not idle.expired(activity)
        now[0] += 10
        assert idle.expired(Activity(0, 0, activity.served))
    busy[0] = True
    now[0] += 100
    assert not idle.expired(Activity(0, 0, 1))
    with pytest.raises(ValueError):
        IdleExit(0, lambda: False)


def test_idle_exit_option_and_environment(tmp_path: Path) -> None:
    root = _write(tmp_path / "ws")
    for args, env, message in (
        (["--idle-exit", "-1"], {}, "--idle-exit must be 0 (never) or a number of seconds"),
        (["--daemon"], {"SHIPDECK_IDLE_EXIT": "soon"}, "$SHIPDECK_IDLE_EXIT must be a number"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "shipdeck", "-C", str(root), "serve", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
        )
        assert result.returncode == 2  # invalid input, as for any bad option
        assert message in result.stderr
        assert not (root / ".shipdeck" / "runner.sock").exists()
