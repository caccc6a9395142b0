"""A client of the workspace daemon comes back when the daemon is gone: the next request
starts a new daemon and is answered, and an open event stream resumes on the new one."""

from __future__ import annotations

import os
import signal
import time

import pytest

from shipdeck.errors import Unavailable
from shipdeck.model import EventKind, RunStatus, WorkspaceSpec
from shipdeck.runners import daemon


def kill_and_wait(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not daemon._gone(pid):
        assert time.monotonic() < deadline, f"pid {pid} still alive"
        time.sleep(0.02)


async def test_a_request_after_the_daemon_died_starts_a_new_one(managed: WorkspaceSpec) -> None:
    said: list[str] = []
    client = await daemon.attach(managed, announce=said.append)
    try:
        first = await client.start_run("build", None)
        await client.wait_run(first.id)
        old = (await client.info()).pid
        kill_and_wait(old)  # the socket file stays behind, refusing connections

        runs = await client.runs()  # this request finds the daemon gone and revives it
        assert [r.id for r in runs] == [first.id]
        new = (await client.info()).pid
        assert new != old and not daemon._gone(new)
        assert len(said) == 1  # revived quietly: a TUI owns the terminal
        assert daemon.pid_path(managed).read_text().strip() == str(new)
    finally:
        await client.close()


async def test_an_event_stream_resumes_on_the_new_daemon(managed: WorkspaceSpec) -> None:
    client = await daemon.attach(managed, announce=lambda _: None)
    try:
        after = await client.last_seq()
        page = await client.wait_events(after, wait=0.1)
        after = page.last_seq
        kill_and_wait((await client.info()).pid)

        # Only the follower is talking to the runner now: it must bring it back by itself.
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, "the stream never came back"
            page = await client.wait_events(after, wait=0.5)
            after = page.last_seq
            if client.state.status.value == "live":
                break
        run = await client.start_run("build", None)
        seen: set[int] = set()
        while run.id not in seen:
            assert time.monotonic() < deadline, "no event of the new run"
            page = await client.wait_events(after, wait=1.0)
            after = page.last_seq
            seen |= {e.run_id for e in page.events if e.kind == EventKind.RUN and e.run_id}
        assert (await client.wait_run(run.id)).status == RunStatus.SUCCEEDED
    finally:
        await client.close()


async def test_a_client_that_may_not_start_it_stays_down(managed: WorkspaceSpec) -> None:
    client = await daemon.attach(managed, announce=lambda _: None)
    await client.close()
    plain = daemon.open_daemon_client(managed)  # as `runner status` probes: no revival
    try:
        kill_and_wait((await plain.info()).pid)
        with pytest.raises(Unavailable):
            await plain.runs()
        assert (await daemon.probe(managed)) is None
    finally:
        await plain.close()
