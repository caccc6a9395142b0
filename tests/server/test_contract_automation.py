"""Automatic actions and scheduled health checks over the contract: in process, over TCP and
over a Unix socket (the history entry's cause and the checks survive the trip)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipdeck.errors import NotFound
from shipdeck.model import AutoKind, DeployAction
from shipdeck.runners.local import open_local_runner
from shipdeck.runners.local_deploy import DeployingLocalRunner
from shipdeck.runners.protocol import DeployRunner, HealthRunner
from shipdeck.runners.remote import RemoteRunner
from shipdeck.server.listen import Listen
from tests.deploy.conftest import USER, Clock, write_workspace
from tests.deploy.test_automation import HEALTH, HOLD_DEPLOY, WORKSPACE, Ticks
from tests.server.conftest import TOKEN, serving


class Subject(DeployRunner, HealthRunner):
    """For type checkers: a runner with deployments and health checks."""


async def _rolled_back(root: Path) -> DeployingLocalRunner:
    """prod of api on r2, whose health fails three times: rolled back to r1 by itself."""
    workspace = write_workspace(root, WORKSPACE)
    (root / "scripts" / "health.sh").write_text(HEALTH)
    (root / "scripts" / "hold_deploy.sh").write_text(HOLD_DEPLOY)
    runner = await open_local_runner(workspace, user=USER, clock=Clock())
    ticks = Ticks()
    scheduler = runner.start_scheduling(clock=ticks)
    for version in ("1", "2"):
        run = await runner.start_run("build", {"version": version})
        await runner.wait_run(run.id)
    await runner.deploy("api", "r1", "prod")
    await runner.deploy("api", "r2", "prod")
    (root / "unhealthy_r2").touch()
    for _ in range(3):
        ticks.now += 60
        await scheduler.tick()
        assert runner.automation is not None
        await runner.automation.idle()
    return runner


@pytest.fixture(params=["local", "tcp", "unix"])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    (tmp_path / "ws").mkdir()
    local = await _rolled_back(tmp_path / "ws")
    try:
        if request.param == "local":
            yield local  # type: ignore[misc]
            return
        tcp = request.param == "tcp"
        listen = Listen(host="127.0.0.1", port=0) if tcp else Listen(path=tmp_path / "r.sock")
        token = TOKEN if tcp else None
        async with serving(local, listen, token=token) as server:
            remote = RemoteRunner(server.url, token=token)
            try:
                yield remote  # type: ignore[misc]
            finally:
                await remote.close()
    finally:
        await local.close()


async def test_checks_and_automatic_actions_over_every_transport(subject: Subject) -> None:
    checks = await subject.health_checks("api", "prod")
    assert [(c.revision, c.passed, c.failures) for c in checks] == [
        ("r2", False, 3),
        ("r2", False, 2),
        ("r2", False, 1),
    ]
    assert "r2 answers 503" in checks[0].output
    assert await subject.health_checks("api", "staging") == []
    assert len(await subject.health_checks("api", limit=1)) == 1
    [newest, *_] = await subject.history("api", "prod")
    assert newest.action == DeployAction.ROLLBACK and newest.automatic
    assert newest.cause is not None and newest.cause.kind == AutoKind.HEALTH
    assert newest.reason.startswith("automatic, because health failed 3 times in a row")
    with pytest.raises(NotFound, match="service 'api' has no environment 'qa'"):
        await subject.health_checks("api", "qa")
    with pytest.raises(NotFound, match="unknown service 'apx'"):
        await subject.health_checks("apx")
