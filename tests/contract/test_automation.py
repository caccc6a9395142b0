"""Automatic actions and scheduled health checks over the contract: in process, over TCP and
over a Unix socket (the history entry's cause and the checks survive the trip)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipdeck.errors import NotFound
from shipdeck.model import AutoKind, DeployAction, WorkspaceSpec
from shipdeck.model.capabilities import Capability
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.runners.protocol import Runner
from tests.contract.harness import WORKSPACE_FILE, needs
from tests.engine.deploy.conftest import USER, Clock, write_workspace
from tests.engine.deploy.test_automation import HEALTH, HOLD_DEPLOY, WORKSPACE, Ticks

pytestmark = [WORKSPACE_FILE, needs(Capability.DEPLOYMENTS)]


@pytest.fixture
def contract_seed(tmp_path: Path) -> WorkspaceSpec:
    root = tmp_path / "ws"
    root.mkdir()
    workspace = write_workspace(root, WORKSPACE)
    (root / "scripts" / "health.sh").write_text(HEALTH)
    (root / "scripts" / "hold_deploy.sh").write_text(HOLD_DEPLOY)
    return workspace


@pytest.fixture
async def contract_backend(contract_seed: WorkspaceSpec) -> AsyncIterator[LocalRunner]:
    """prod of api on r2, whose health fails three times: rolled back to r1 by itself."""
    runner = await open_local_runner(contract_seed, user=USER, clock=Clock())
    try:
        ticks = Ticks()
        scheduler = runner.start_scheduling(clock=ticks)
        for version in ("1", "2"):
            run = await runner.start_run("build", {"version": version})
            await runner.wait_run(run.id)
        await runner.deploy("api", "r1", "prod")
        await runner.deploy("api", "r2", "prod")
        (contract_seed.root / "unhealthy_r2").touch()
        for _ in range(3):
            ticks.now += 60
            await scheduler.tick()
            assert runner.autopilot.deploy_automation is not None
            await runner.autopilot.deploy_automation.idle()
        yield runner
    finally:
        await runner.close()


async def test_checks_and_automatic_actions_over_every_transport(contract_runner: Runner) -> None:
    checks = await contract_runner.health_checks("api", "prod")
    assert [(c.revision, c.passed, c.failures) for c in checks] == [
        ("r2", False, 3),
        ("r2", False, 2),
        ("r2", False, 1),
    ]
    assert "r2 answers 503" in checks[0].output
    assert await contract_runner.health_checks("api", "staging") == []
    assert len(await contract_runner.health_checks("api", limit=1)) == 1
    [newest, *_] = await contract_runner.history("api", "prod")
    assert newest.action == DeployAction.ROLLBACK and newest.automatic
    assert newest.cause is not None and newest.cause.kind == AutoKind.HEALTH
    assert newest.reason.startswith("automatic, because health failed 3 times in a row")
    with pytest.raises(NotFound, match="service 'api' has no environment 'qa'"):
        await contract_runner.health_checks("api", "qa")
    with pytest.raises(NotFound, match="unknown service 'apx'"):
        await contract_runner.health_checks("apx")
