"""The demo's closed MLOps loop, end to end on the real workspace daemon (real subprocesses):
the seed deploys churn v1 to staging and makes it the champion, the scoring stream lands a
batch at a time and `score` runs on each (on_change); the customers change, the drift monitor
opens an alert, the alert starts `retrain`, its model becomes the challenger, beats the
champion and goes to staging by itself, recorded as automatic because of the alert. Prod is
left alone for the operator.

The story's pace is set in the workspace file: the test lowers the stream's `interval` and
the monitor's `every` there, the knob docs/demo.md names."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from shipdeck.demo import init_demo
from shipdeck.demo.seed import SEED_REASON, STREAM, seed_deployments, start_seed_runs
from shipdeck.model import CHALLENGER, CHAMPION, DeployAction, Outcome, RunStatus
from shipdeck.runners import daemon
from shipdeck.runners.protocol import Runner
from shipdeck.workspace import load_workspace

T = TypeVar("T")
STORY_DEADLINE = 60.0
"""Generous for a loaded machine; on a quiet one the story takes about 15 s."""


def faster(root: Path) -> None:
    """The workspace's own knobs: a batch every 0.7 s instead of 4 s, a check every 2 s."""
    path = root / "shipdeck.toml"
    text = path.read_text()
    text, streams = re.subn(r"interval = 4\b", "interval = 0.7", text)
    text, monitors = re.subn(r'every = "10s"', 'every = "2s"', text)
    assert (streams, monitors) == (1, 1), "the demo's pace knobs moved; update this test"
    path.write_text(text)


@pytest.fixture
async def demo_daemon(tmp_path: Path) -> AsyncIterator[tuple[Runner, Path]]:
    root = init_demo(tmp_path / "demo")
    faster(root)
    workspace = load_workspace(root)
    client = await daemon.attach(workspace, announce=lambda _: None)
    try:
        yield client, root
    finally:
        await client.close()
        with contextlib.suppress(Exception):
            await daemon.stop(workspace)


async def until(probe: Callable[[], Awaitable[T | None]], what: str, deadline: float) -> T:
    """The first truthy answer of `probe`, polled until `deadline` (monotonic)."""
    while True:
        answer = await probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not in time: {what}")
        await asyncio.sleep(0.1)


async def test_drift_alert_retrains_and_the_challenger_reaches_staging(
    demo_daemon: tuple[Runner, Path],
) -> None:
    runner, root = demo_daemon
    deadline = time.monotonic() + STORY_DEADLINE
    seeding = asyncio.create_task(seed_deployments(runner, await start_seed_runs(runner)))

    # The seed: churn v1 serves in staging and is the champion, then the stream starts.
    await asyncio.wait_for(seeding, STORY_DEADLINE)
    assert (await runner.model_versions("churn"))[-1].aliases == [CHAMPION]
    [seeded] = await runner.history("churn", "staging")
    assert (seeded.to_revision, seeded.reason, seeded.cause) == ("v1", SEED_REASON, None)
    [stream] = await runner.runs(pipeline=STREAM)
    assert stream.trigger == "demo"

    # Batches land, each scored by the model in staging.
    async def scored() -> bool:
        runs = await runner.runs(pipeline="score", status=RunStatus.SUCCEEDED)
        return len(runs) >= 2

    await until(scored, "two batches scored", deadline)
    assert (root / "stream" / "batch-001.csv").is_file()
    first_score = (await runner.runs(pipeline="score"))[-1]
    assert first_score.trigger.startswith("changed stream/batch-")

    # The customers change: the drift monitor opens an alert.
    async def alert_opened() -> list[object]:
        return list(await runner.alerts(open_only=True, monitor="drift"))

    await until(alert_opened, "the drift alert", deadline)
    [alert] = await runner.alerts(monitor="drift")
    assert alert.threshold == "drift_share >= 0.5" and alert.value >= 0.5

    # The alert starts retraining, once.
    async def retrained() -> list[object]:
        return list(await runner.runs(pipeline="retrain"))

    await until(retrained, "a retrain run", deadline)
    [retrain] = await runner.runs(pipeline="retrain")
    assert retrain.trigger == f"alert #{alert.id} drift"
    assert retrain.cause is not None and retrain.cause.alert == alert.id
    left = max(1.0, deadline - time.monotonic())
    done = await asyncio.wait_for(runner.wait_run(retrain.id), left)
    assert done.status == RunStatus.SUCCEEDED

    # Its model is the challenger, and beats the champion.
    versions = {version.revision: version for version in await runner.model_versions("churn")}
    assert versions["v2"].run_id == retrain.id and CHALLENGER in versions["v2"].aliases
    assert CHAMPION in versions["v1"].aliases
    assert versions["v2"].metrics["auc"] >= versions["v1"].metrics["auc"] + 0.005

    # The service's policy deploys it to staging by itself, because of the alert.
    async def promoted() -> list[object]:
        entries = await runner.history("churn", "staging")
        return [e for e in entries if e.cause is not None and e.outcome != Outcome.RUNNING]

    await until(promoted, "the automatic deploy to staging", deadline)
    automatic, manual = await runner.history("churn", "staging")
    assert (automatic.action, automatic.outcome) == (DeployAction.DEPLOY, Outcome.SUCCEEDED)
    assert (automatic.from_revision, automatic.to_revision) == ("v1", "v2")
    assert automatic.cause is not None and automatic.cause.alert_id == alert.id
    assert automatic.reason.startswith(f"automatic, because alert #{alert.id}: ")
    assert manual.id == seeded.id
    held = {(s.service, s.env): s.revision for s in await runner.deployments()}
    assert held[("churn", "staging")] == "v2"
    assert held[("churn", "prod")] is None and await runner.history("churn", "prod") == []
