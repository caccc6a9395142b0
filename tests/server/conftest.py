"""Server fixtures: the contract suite's workspace (tests/contract/harness.py) in process and
served over TCP with a token."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from shipdeck.model import WorkspaceSpec
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.server import RunningServer
from shipdeck.server.listen import Listen
from tests.contract.harness import TOKEN, serving, write_workspace


async def eventually(
    check: Callable[[], bool], *, within: float = 10.0, interval: float = 0.02
) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


@pytest.fixture
def workspace(tmp_path: Path) -> WorkspaceSpec:
    return write_workspace(tmp_path / "ws")


@pytest.fixture
async def local_runner(workspace: WorkspaceSpec) -> AsyncIterator[LocalRunner]:
    runner = await open_local_runner(workspace)
    try:
        yield runner
    finally:
        await runner.close()


@pytest.fixture
async def tcp_server(local_runner: LocalRunner) -> AsyncIterator[RunningServer]:
    async with serving(local_runner, Listen(host="127.0.0.1", port=0), token=TOKEN) as server:
        yield server


@pytest.fixture
async def managed(workspace: WorkspaceSpec) -> AsyncIterator[WorkspaceSpec]:
    """The test workspace; whatever daemon a test leaves behind is stopped."""
    from shipdeck.runners import daemon

    try:
        yield workspace
    finally:
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)
