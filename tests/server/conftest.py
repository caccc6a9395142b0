"""Runner fixtures: the same workspace served in-process, over TCP (token) and a Unix socket."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from shipdeck.model import WorkspaceSpec
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.runners.protocol import Runner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.server import RunningServer, StreamSettings, bind, bound_url, create_app, start_server
from shipdeck.server.listen import Listen
from shipdeck.workspace import load_workspace

TOKEN = "s3cret-token-for-tests"

WORKSPACE = """
[pipelines.build]
description = "compile, test, package"
params = { fail = false, greeting = "hello" }

[pipelines.build.tasks.compile]
run = "echo compiling; echo \\"greeting=$SHIPDECK_PARAM_GREETING\\"; echo '::metric size=42'"

[pipelines.build.tasks.test]
run = "echo testing; if [ \\"$SHIPDECK_PARAM_FAIL\\" = true ]; then echo boom >&2; exit 3; fi"
needs = ["compile"]

[pipelines.build.tasks.package]
run = "echo packaging"
needs = ["test"]

[pipelines.slow]
[pipelines.slow.tasks.sleep]
run = "echo started; sleep 30"

[pipelines.chatty]
params = { lines = 100, delay = 0.0 }

[pipelines.chatty.tasks.talk]
run = "python3 -u talk.py $SHIPDECK_PARAM_LINES $SHIPDECK_PARAM_DELAY"
"""


TALK = """
import sys, time
count, delay = int(sys.argv[1]), float(sys.argv[2])
for i in range(count):
    print("line", i)
    if delay:
        time.sleep(delay)
"""


def write_workspace(root: Path) -> WorkspaceSpec:
    root.mkdir(parents=True, exist_ok=True)
    (root / "talk.py").write_text(TALK)
    (root / "shipdeck.toml").write_text(WORKSPACE)
    return load_workspace(root)


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


@contextlib.asynccontextmanager
async def serving(
    runner: Runner,
    listen: Listen,
    *,
    token: str | None = None,
    read_only: bool = False,
    stream: StreamSettings | None = None,
) -> AsyncIterator[RunningServer]:
    app = create_app(runner, token=token, read_only=read_only, stream=stream)
    sock = bind(listen)
    server = await start_server(app, sock, bound_url(listen, sock, False))
    try:
        yield server
    finally:
        await server.stop()


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


@pytest.fixture(params=["local", "tcp", "unix"])
async def runner(
    request: pytest.FixtureRequest, local_runner: LocalRunner, tmp_path: Path
) -> AsyncIterator[Runner]:
    """The contract suite's subject: one workspace, reached three ways."""
    if request.param == "local":
        yield local_runner
        return
    if request.param == "tcp":
        listen, token = Listen(host="127.0.0.1", port=0), TOKEN
    else:
        listen, token = Listen(path=tmp_path / "runner.sock"), None
    async with serving(local_runner, listen, token=token) as server:
        remote = RemoteRunner(server.url, token=token)
        try:
            yield remote
        finally:
            await remote.close()


@pytest.fixture
async def managed(workspace: WorkspaceSpec) -> AsyncIterator[WorkspaceSpec]:
    """The test workspace; whatever daemon a test leaves behind is stopped."""
    from shipdeck.runners import daemon

    try:
        yield workspace
    finally:
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)
