"""The workspace daemon runs the services' scheduled health checks by itself, in real time:
commands deploy through it, a revision turns unhealthy, and the daemon rolls it back."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shipdeck.model import WorkspaceSpec
from shipdeck.runners import daemon
from tests.engine.deploy.conftest import write_workspace
from tests.engine.deploy.test_automation import HEALTH
from tests.server.conftest import eventually
from tests.server.test_daemon_schedules import daemon_pid, shipdeck

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


HELD_ROLLBACK = """
if [ "$SHIPDECK_ACTION" = rollback ]; then
    echo "$$" > rollback.pid
    while [ -e hold_rollback ]; do sleep 0.05; done
fi
exec sh scripts/deploy.sh
"""
"""Deploys, but a rollback waits while `hold_rollback` exists: the daemon is killed then."""


async def test_a_daemon_killed_during_an_automatic_rollback_rolls_back_after_restart(
    workspace: WorkspaceSpec,
) -> None:
    root = workspace.root
    (root / "scripts" / "held.sh").write_text(HELD_ROLLBACK)
    toml = root / "shipdeck.toml"
    toml.write_text(toml.read_text().replace("sh scripts/deploy.sh", "sh scripts/held.sh"))
    for version in ("1", "2"):
        done = shipdeck(workspace, "run", "build", "-p", f"version={version}", in_process=False)
        assert done.returncode == 0, done.stderr
    for revision in ("r1", "r2"):
        done = shipdeck(workspace, "deploy", "api", revision, "--env", "prod", in_process=False)
        assert done.returncode == 0, done.stderr
    (root / "hold_rollback").touch()
    (root / "unhealthy_r2").touch()

    def rolling_back() -> bool:
        newest = cli(workspace, "history", "api", "--env", "prod")[0]
        return newest["cause"] is not None and (root / "rollback.pid").exists()

    await eventually(rolling_back, within=30, interval=0.2)
    pid = await daemon_pid(workspace)
    os.kill(pid, signal.SIGKILL)
    await eventually(lambda: daemon._gone(pid), within=10)
    (root / "hold_rollback").unlink()

    def rolled_back() -> bool:
        history = cli(workspace, "history", "api", "--env", "prod")  # starts the daemon again
        return history[0]["outcome"] == "succeeded" and history[0]["cause"] is not None

    await eventually(rolled_back, within=30, interval=0.2)
    history = cli(workspace, "history", "api", "--env", "prod")
    assert [(h["action"], h["to_revision"], h["outcome"], bool(h["cause"])) for h in history] == [
        ("rollback", "r1", "succeeded", True),
        ("rollback", "r1", "interrupted", True),
        ("deploy", "r2", "succeeded", False),
        ("deploy", "r1", "succeeded", False),
    ]
    [prod] = [s for s in cli(workspace, "deployments") if s["env"] == "prod"]
    assert prod["revision"] == "r1"
