"""The contract suite's machinery: the capability marker, the skip, and the three ways to
reach the embedded engine (see the package docstring for how an adapter plugs in)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest

from shipdeck.config import RunnerEntry
from shipdeck.model import RunDetail, RunStatus, WorkspaceSpec
from shipdeck.model.capabilities import Capability, EventDelivery
from shipdeck.runners.connect import open_entry
from shipdeck.runners.daemon import open_daemon_client, socket_path
from shipdeck.runners.local import LocalRunner
from shipdeck.runners.protocol import Runner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.server import RunningServer, StreamSettings, bind, bound_url, create_app, start_server
from shipdeck.server.listen import Listen
from shipdeck.workspace import load_workspace

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
    """The default seed: pipelines build (params fail, greeting), slow and chatty."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "talk.py").write_text(TALK)
    (root / "shipdeck.toml").write_text(WORKSPACE)
    return load_workspace(root)


KINDS = ["local", "unix", "tcp"]
"""In process; over the workspace daemon's Unix socket with its client; over TCP (token)."""
TOKEN = "s3cret-token-for-tests"


def needs(*capabilities: Capability) -> pytest.MarkDecorator:
    """Mark a contract test with what it needs of the runner under test."""
    return pytest.mark.needs(*capabilities)


class Seeder(Protocol):
    """How a test gets a finished run: the `contract_seeder` fixture. The run is of
    `pipeline` (the suite's name: `build`), with `params`, ends with `status` and has reported
    `metrics` (each key's values in step order; None: not checked, nothing written), and for
    `train` registers the model version its task registers. Returns the run's id.

    A kind that executes pipelines starts the run (`status` cancelled: cancels it at once) and
    checks that it ended so and reported those metrics: the params must make it (`fail=true`
    fails `build`). A kind that records runs others make (MLflow) writes all of it through its
    server's API."""

    async def __call__(
        self,
        pipeline: str,
        params: dict[str, str],
        *,
        status: RunStatus = RunStatus.SUCCEEDED,
        metrics: dict[str, list[float]] | None = None,
    ) -> str: ...


def reported(detail: RunDetail) -> dict[str, list[float]]:
    """A run's metrics as a seeder states them: each key's values in step order."""
    steps: dict[str, list[tuple[int, int, float]]] = {}
    for index, metric in enumerate(detail.metrics):
        rank = metric.step if metric.step is not None else index
        steps.setdefault(metric.key, []).append((rank, index, metric.value))
    return {key: [value for *_, value in sorted(found)] for key, found in steps.items()}


def executing_seeder(runner: Runner) -> Seeder:
    """For kinds that execute pipelines: start the run (cancel it, for a cancelled one) and
    wait for it to end as asked; skips the test when the runner cannot start (or cancel)."""

    async def seed(
        pipeline: str,
        params: dict[str, str],
        *,
        status: RunStatus = RunStatus.SUCCEEDED,
        metrics: dict[str, list[float]] | None = None,
    ) -> str:
        declared = await runner.capabilities()
        wanted = [Capability.TRIGGER_PARAMS if params else Capability.TRIGGER]
        if status == RunStatus.CANCELLED:
            wanted.append(Capability.CANCEL)
        missing = [c.value for c in wanted if not declared.has(c)]
        if missing:
            pytest.skip(f"{runner.name} ({declared.kind}) lacks {', '.join(missing)} to seed runs")
        run = await runner.start_run(pipeline, params or None)
        if status == RunStatus.CANCELLED:
            await runner.cancel(run.id)
        assert (await runner.wait_run(run.id)).status == status
        if metrics is not None:
            assert reported(await runner.run(run.id)) == metrics
        return run.id

    return seed


EVENTS = pytest.mark.events
"""Mark a contract test that follows the event feed (skipped where events are NONE)."""
WORKSPACE_FILE = pytest.mark.workspace_file
"""Mark a contract test that edits the workspace file `contract_seed` (the embedded engine's:
skipped when the seed is not a WorkspaceSpec)."""


async def skip_unless_capable(request: pytest.FixtureRequest, runner: Runner) -> None:
    """Skip the requesting test when `runner` lacks what its marks ask for: `needs`
    capabilities, an event feed (`events`), a workspace file (`workspace_file`)."""
    wanted = [c for mark in request.node.iter_markers("needs") for c in mark.args]
    declared = await runner.capabilities()
    missing = [c.value for c in wanted if c not in declared.can]
    if request.node.get_closest_marker("events") and declared.events == EventDelivery.NONE:
        missing.append("events")
    if missing:
        pytest.skip(f"{runner.name} ({declared.kind}) lacks {', '.join(missing)}")
    if request.node.get_closest_marker("workspace_file"):
        seed = request.getfixturevalue("contract_seed")
        if not isinstance(seed, WorkspaceSpec):
            pytest.skip(f"{runner.name} has no workspace file to edit")


@contextlib.asynccontextmanager
async def serving(
    runner: Runner,
    listen: Listen,
    *,
    token: str | None = None,
    read_only: bool = False,
    stream: StreamSettings | None = None,
) -> AsyncIterator[RunningServer]:
    """`runner` served over HTTP, as `shipdeck serve` and the workspace daemon do."""
    app = create_app(runner, token=token, read_only=read_only, stream=stream)
    sock = bind(listen)
    server = await start_server(app, sock, bound_url(listen, sock, False))
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def reach(
    kind: str, backend: LocalRunner, workspace: WorkspaceSpec, tmp_path: Path
) -> AsyncIterator[Runner]:
    """`backend` as a runner of `kind` (one of KINDS)."""
    if kind == "local":
        yield backend
        return
    if kind == "unix":
        # Where the workspace daemon listens, answered by the daemon's app, and its client.
        place: Path = socket_path(workspace)
        place.parent.mkdir(parents=True, exist_ok=True)
        async with serving(backend, Listen(path=place)):
            client: RemoteRunner = open_daemon_client(workspace)
            try:
                yield client
            finally:
                await client.close()
        return
    async with serving(backend, Listen(host="127.0.0.1", port=0), token=TOKEN) as server:
        remote = RemoteRunner(server.url, token=TOKEN)
        try:
            yield remote
        finally:
            await remote.close()


def open_read_only(url: str, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """A client of the runner at `url` opened as a configured `read_only = true` runner is
    (`runners/connect.py`), its token read from the environment as the config names it."""
    monkeypatch.setenv("SHIPDECK_CONTRACT_TOKEN", TOKEN)
    entry = RunnerEntry(name="viewer", url=url, token_env="SHIPDECK_CONTRACT_TOKEN", read_only=True)
    return open_entry(entry)
