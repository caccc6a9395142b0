"""What a freshly written demo starts with, so the cockpit opens on live work and a Deployments
view with something in it: a CI build, a training run and a training run that fails (to show
reruns); then, as each build lands, the app and the model deployed the way an operator would,
with a reason in the history: api to dev and promoted to staging, churn to staging. Prod is
left for the operator (its gates are part of what the demo shows).

Once churn serves in staging it is made the champion and the scoring stream starts: the rest
of the closed loop (drift, alert, retraining, the challenger to staging) is the workspace's
own triggers, monitor and policy at work in the runner, not this module."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine

from shipdeck.errors import ShipdeckError
from shipdeck.model import CHAMPION, Outcome, Run, RunStatus
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner

SEED_RUNS: list[tuple[str, dict[str, str]]] = [
    ("ci", {}),
    ("train", {}),
    ("train", {"flaky": "true"}),
]
SEED_REASON = "demo: the first build, deployed as the demo starts"
STREAM = "stream"
"""The pipeline that replays scoring data; started once the model serves in staging."""


async def start_seed_runs(runner: Runner) -> list[Run]:
    """Start the seed runs; they execute in the background (train runs one at a time)."""
    return [await runner.start_run(p, params, trigger="demo") for p, params in SEED_RUNS]


async def seed_deployments(runner: Runner, runs: list[Run]) -> None:
    """Deploy what the seed runs build, each as soon as its run succeeds. Meant to run beside
    the TUI without holding it up; a build that fails is simply not deployed."""
    if Capability.DEPLOYMENTS not in (await runner.capabilities()).can:
        return
    deployer = runner

    async def built(pipeline: str) -> Run | None:
        run = next((r for r in runs if r.pipeline == pipeline), None)
        if run is None:
            return None
        done = await runner.wait_run(run.id)
        return done if done.status == RunStatus.SUCCEEDED else None

    async def api() -> None:
        run = await built("ci")
        if run is not None:
            await deployer.deploy("api", f"r{run.id}", "dev", reason=SEED_REASON)
            await deployer.promote("api", "staging", reason=SEED_REASON)

    async def churn() -> None:
        if await built("train") is None:
            return
        entry = await deployer.deploy("churn", "latest", "staging", reason=SEED_REASON)
        if entry.outcome != Outcome.SUCCEEDED:
            return
        # What serves now is what a retrained challenger has to beat (auto_promote's policy).
        await runner.alias("churn", CHAMPION, entry.to_revision)
        await runner.start_run(STREAM, trigger="demo")

    async def quietly(step: Coroutine[None, None, None]) -> None:
        # A refused or failed seed deploy is in the history for the operator to see; it must
        # not take the TUI down with it.
        with contextlib.suppress(ShipdeckError):
            await step

    await asyncio.gather(quietly(api()), quietly(churn()))
