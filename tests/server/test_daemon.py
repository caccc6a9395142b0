"""The workspace daemon: started on demand, outlives its clients, shared live, restarted."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipdeck.errors import Refused, Unavailable
from shipdeck.model import EventKind, RunStatus, WorkspaceSpec
from shipdeck.runners import daemon
from tests.server.conftest import write_workspace


def wait_gone(pid: int, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not daemon._gone(pid):
        assert time.monotonic() < deadline, f"pid {pid} still alive"
        time.sleep(0.02)


async def test_starts_on_demand_once_and_says_so(managed: WorkspaceSpec) -> None:
    said: list[str] = []
    with pytest.raises(Unavailable, match="no runner is running"):
        await daemon.attach(managed, start=False)
    first = await daemon.attach(managed, announce=said.append)
    second = await daemon.attach(managed, announce=said.append)
    try:
        info = await first.info()
        assert said == [f"started runner for {managed.root} (pid {info.pid})"]
        assert (await second.info()).pid == info.pid != os.getpid()
        mode = daemon.socket_path(managed).stat().st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
        assert daemon.pid_path(managed).read_text().strip() == str(info.pid)
        state = await daemon.status(managed)
        assert state.running and state.info is not None and state.info.pid == info.pid
    finally:
        await first.close()
        await second.close()
    assert await daemon.stop(managed) == info.pid
    assert not daemon.socket_path(managed).exists()
    assert not (await daemon.status(managed)).running


CLIENT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from shipdeck.runners.connect import connect
    from shipdeck.workspace import load_workspace

    async def main():
        runner = await connect(load_workspace(Path(sys.argv[1])), None)
        run = await runner.start_run("chatty", {"lines": "40", "delay": "0.05"})
        print(run.id, flush=True)
        await runner.close()

    asyncio.run(main())
    """
)


async def test_run_survives_its_client_and_a_second_client_follows_live(
    managed: WorkspaceSpec,
) -> None:
    started = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", CLIENT, str(managed.root)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "SHIPDECK_IN_PROCESS"},
    )
    assert started.returncode == 0, started.stderr
    assert f"started runner for {managed.root} (pid " in started.stderr
    run_id = started.stdout.strip()

    said: list[str] = []
    follower = await daemon.attach(managed, announce=said.append)
    try:
        assert said == []  # attached to the running daemon, did not start another
        detail = await follower.run(run_id)
        assert detail.run.status == RunStatus.RUNNING  # the client that started it is gone
        after = await follower.last_seq()
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline
            page = await follower.wait_events(after, wait=5)
            after = page.last_seq
            mine = [e for e in page.events if e.run_id == run_id]
            lines += [e.data.text for e in mine if e.kind == EventKind.LOG]
            done = [e for e in page.events if e.kind == EventKind.RUN and e.run_id == run_id]
            if done and RunStatus(done[-1].data.status).finished:
                break
        assert lines, "no line arrived live"
        assert lines[-1] == "line 39"
        assert (await follower.wait_run(run_id)).status == RunStatus.SUCCEEDED
    finally:
        await follower.close()


async def test_restarted_after_kill_9_and_recovers_the_run(managed: WorkspaceSpec) -> None:
    said: list[str] = []
    client = await daemon.attach(managed, announce=said.append)
    try:
        first_pid = (await client.info()).pid
        after = await client.last_seq()
        run = await client.start_run("slow")
        while True:  # until the task runs
            page = await client.wait_events(after, wait=5)
            after = page.last_seq
            if any(e.kind == EventKind.LOG and e.run_id == run.id for e in page.events):
                break
    finally:
        await client.close()
    os.kill(first_pid, signal.SIGKILL)
    wait_gone(first_pid)
    assert daemon.socket_path(managed).exists()  # left behind: the next client replaces it

    client = await daemon.attach(managed, announce=said.append)
    try:
        second_pid = (await client.info()).pid
        assert second_pid != first_pid
        assert said[-1] == f"started runner for {managed.root} (pid {second_pid})"
        recovered = await client.wait_run(run.id)
        assert recovered.status == RunStatus.INTERRUPTED
        # The restarted daemon runs new work as usual.
        again = await client.start_run("build")
        assert (await client.wait_run(again.id)).status == RunStatus.SUCCEEDED
    finally:
        await client.close()


async def test_status_refusal_and_stop_from_the_command_line(managed: WorkspaceSpec) -> None:
    async def shipdeck(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "shipdeck", "-C", str(managed.root), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    stopped = await shipdeck("runner", "status")
    assert stopped.returncode == 1
    assert stopped.stdout.strip() == f"runner for {managed.root}: not running"

    process = daemon.spawn(managed)
    try:
        deadline = time.monotonic() + 30
        while await daemon.probe(managed) is None:
            assert process.poll() is None, daemon.log_path(managed).read_text()
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        status = await shipdeck("runner", "status")
        assert status.returncode == 0
        assert f"running (pid {process.pid}, shipdeck " in status.stdout

        second = await shipdeck("serve")
        assert second.returncode == 1
        assert second.stderr.strip() == (
            f"shipdeck: error: a runner is already listening on {daemon.socket_path(managed)}"
        )

        result = await shipdeck("serve", "--stop")
        assert result.returncode == 0
        assert result.stdout.strip() == f"stopped runner for {managed.root} (pid {process.pid})"
        assert process.wait(timeout=10) == 0
        assert not daemon.socket_path(managed).exists()
        assert not daemon.pid_path(managed).exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_a_lazy_attach_starts_the_daemon_once_without_waiting_for_it(
    managed: WorkspaceSpec,
) -> None:
    """The TUI's client: the daemon is spawned at once, the first requests wait for it (on
    the start lock, by way of the revive) and no second daemon is started by them."""
    spawned_before = list(daemon._spawned)
    client = await daemon.attach_lazily(managed)
    try:
        spawned = [p for p in daemon._spawned if p not in spawned_before]
        assert len(spawned) == 1 and spawned[0].poll() is None
        runs, pipelines, info = await asyncio.gather(
            client.runs(), client.pipelines(), client.info()
        )
        assert runs == [] and [p.name for p in pipelines][:1] == ["build"]
        assert info.pid == spawned[0].pid  # the one spawned, not one a revive started
        assert [p for p in daemon._spawned if p not in spawned_before] == spawned
        again = await daemon.attach_lazily(managed)  # warm: nothing spawned
        assert (await again.info()).pid == info.pid
        await again.close()
        assert [p for p in daemon._spawned if p not in spawned_before] == spawned
    finally:
        await client.close()


async def test_a_lazy_attach_reports_why_the_daemon_could_not_start(
    managed: WorkspaceSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPDECK_IDLE_EXIT", "soon")  # the daemon refuses to start on it
    client = await daemon.attach_lazily(managed)
    try:
        with pytest.raises(Unavailable) as failure:
            await client.runs()
        message = str(failure.value)
        assert "exited at start" in message and "SHIPDECK_IDLE_EXIT" in message, message
    finally:
        await client.close()


@pytest.fixture
async def deep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[WorkspaceSpec]:
    """A workspace whose .shipdeck/runner.sock would not fit in a socket address. The runtime
    directory is short, as a real one is (/run/user/UID): pytest's temporary paths (longer
    under xdist) would not leave it room for a socket either."""
    runtime = Path(tempfile.mkdtemp(prefix="sd-run-"))
    (tmp_path / "run").symlink_to(runtime)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    workspace = write_workspace(tmp_path / ("deep-" + "d" * 60) / ("w" * 40))
    assert len(os.fsencode(workspace.state_dir / "runner.sock")) > daemon.SOCKET_PATH_MAX
    yield workspace
    with contextlib.suppress(Exception):
        await daemon.stop(workspace)
    shutil.rmtree(runtime, ignore_errors=True)


async def test_a_deep_workspace_gets_its_socket_in_the_private_runtime_dir(
    deep: WorkspaceSpec, tmp_path: Path
) -> None:
    client = await daemon.attach(deep, announce=lambda _: None)
    try:
        assert [p.name for p in await client.pipelines()][:1] == ["build"]
        path = daemon.socket_path(deep)
        assert path.parent == (tmp_path / "run").resolve() / "shipdeck" and path.exists()
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert daemon.socket_path(deep) == path  # the same for every client
        assert (await daemon.status(deep)).running
    finally:
        await client.close()
    assert await daemon.stop(deep) is not None
    assert not daemon.socket_path(deep).exists()


async def test_a_runtime_dir_others_can_write_in_is_refused(deep: WorkspaceSpec) -> None:
    shared = Path(os.environ["XDG_RUNTIME_DIR"]) / "shipdeck"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    with pytest.raises(Refused, match="must be a directory of yours with mode 0700"):
        await daemon.attach(deep, announce=lambda _: None)
    assert list(shared.iterdir()) == []  # nothing started, nothing bound there
