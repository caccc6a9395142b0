"""The workspace daemon runs the services' scheduled health checks by itself, in real time:
commands deploy through it, a revision turns unhealthy, and the daemon rolls it back."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shipdeck.model import WorkspaceSpec
from shipdeck.runners import daemon
from tests.deploy.conftest import write_workspace
from tests.deploy.test_automation import HEALTH
from tests.server.conftest import eventually
from tests.server.test_daemon_schedules import shipdeck

WORKSPACE = """
[pipelines.build]
params = { version = "1", fail = false }

[pipelines.build.tasks.package]
run = "sh scripts/package.sh"

[services.api]
pipeline = "build"
artifact = "dist/app.txt"
environments = ["staging", "prod"]
deploy = "sh scripts/deploy.sh"
health = "sh scripts/health.sh"
health_every = "1s"
auto_rollback = ["prod"]
rollback_after = 2
"""


@pytest.fixture
async def workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[WorkspaceSpec]:
    monkeypatch.setenv("SHIPDECK_IDLE_EXIT", "1")  # it must stay up anyway: it has checks
    root = tmp_path / "ws"
    root.mkdir()
    spec = write_workspace(root, WORKSPACE)
    (root / "scripts" / "health.sh").write_text(HEALTH)
    try:
        yield spec
    finally:
        with contextlib.suppress(Exception):
            await daemon.stop(spec)


def cli(workspace: WorkspaceSpec, *args: str) -> Any:
    done = shipdeck(workspace, *args, "--json", in_process=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_the_daemon_rolls_back_an_unhealthy_revision(workspace: WorkspaceSpec) -> None:
    for version in ("1", "2"):
        assert (
            shipdeck(
                workspace, "run", "build", "-p", f"version={version}", in_process=False
            ).returncode
            == 0
        )
    for revision in ("r1", "r2"):
        done = shipdeck(workspace, "deploy", "api", revision, "--env", "prod", in_process=False)
        assert done.returncode == 0, done.stderr
    (workspace.root / "unhealthy_r2").touch()

    def rolled_back() -> bool:
        return bool(cli(workspace, "history", "api", "--env", "prod")[0]["cause"])

    await eventually(rolled_back, within=30, interval=0.2)
    newest = cli(workspace, "history", "api", "--env", "prod")[0]
    assert (newest["action"], newest["to_revision"], newest["outcome"]) == (
        "rollback",
        "r1",
        "succeeded",
    )
    assert newest["reason"].startswith("automatic, because health failed 2 times in a row on r2")
    checks = cli(workspace, "health", "api", "--env", "prod", "--limit", "100")
    failed = [c for c in checks if c["revision"] == "r2"]
    assert [c["failures"] for c in reversed(failed)] == [1, 2]
    [prod] = [s for s in cli(workspace, "deployments") if s["env"] == "prod"]
    assert prod["revision"] == "r1"
