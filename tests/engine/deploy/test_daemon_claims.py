"""A deploy that another process runs in process (SHIPDECK_IN_PROCESS=1) and that is killed
mid-way: the long-lived daemon's reads stop showing it in flight, as they do for its run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipdeck.model import EnvironmentState, Outcome, RunStatus, WorkspaceSpec
from shipdeck.runners import daemon
from shipdeck.runners.remote import RemoteRunner

from .conftest import write_workspace

NOTICED_WITHIN = 10.0
"""Seconds the daemon may take to notice; its reads check at once, so this is slack."""


@pytest.fixture
async def attached(tmp_path: Path) -> AsyncIterator[tuple[WorkspaceSpec, RemoteRunner]]:
    workspace = write_workspace(tmp_path)
    client = await daemon.attach(workspace, announce=lambda _: None)
    try:
        yield workspace, client
    finally:
        await client.close()
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)


def dev_of_api(states: list[EnvironmentState]) -> EnvironmentState:
    [state] = [s for s in states if (s.service, s.env) == ("api", "dev")]
    return state


async def test_a_killed_in_process_deploy_is_not_shown_in_flight_by_the_daemon(
    attached: tuple[WorkspaceSpec, RemoteRunner],
) -> None:
    workspace, client = attached
    build = await client.start_run("build", {"version": "1"})
    assert (await client.wait_run(build.id)).status == RunStatus.SUCCEEDED
    (workspace.root / "slow_deploy").touch()

    deploying = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "shipdeck", "-C", str(workspace.root)],
        *["deploy", "api", f"r{build.id}", "--env", "dev"],
        env={**os.environ, "SHIPDECK_IN_PROCESS": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        # In flight, as the daemon reads it, once the deploy run has started.
        while (flight := dev_of_api(await client.deployments()).in_flight) is None or (
            flight.run_id is None
        ):
            assert deploying.returncode is None, await deploying.communicate()
            assert time.monotonic() < deadline, "the deploy never showed in flight"
            await asyncio.sleep(0.05)
        deploying.send_signal(signal.SIGKILL)
        await asyncio.wait_for(deploying.wait(), timeout=10)
    finally:
        if deploying.returncode is None:
            deploying.kill()
            await deploying.wait()
    killed_at = time.monotonic()

    while dev_of_api(await client.deployments()).in_flight is not None:
        waited = time.monotonic() - killed_at
        assert waited < NOTICED_WITHIN, f"still in flight {waited:.0f}s after its process died"
        await asyncio.sleep(0.1)
    [latest, *_] = await client.history("api", "dev")
    assert latest.id == flight.id and latest.outcome == Outcome.INTERRUPTED
    assert latest.finished_at is not None
    assert (await client.run(flight.run_id)).run.status == RunStatus.INTERRUPTED
    state = dev_of_api(await client.deployments())
    assert state.revision is None  # kept what it had: nothing

    # The environment is free again: the daemon deploys it.
    (workspace.root / "slow_deploy").unlink()
    entry = await client.deploy("api", f"r{build.id}", "dev")
    assert entry.outcome == Outcome.SUCCEEDED
