"""A demo written just now starts with something deployed: as its seed builds land, the app
goes to dev and is promoted to staging and the model goes to staging, each with a reason in
the history; prod is left for the operator."""

from __future__ import annotations

import asyncio

from shipdeck.demo.seed import SEED_REASON, seed_deployments, start_seed_runs
from shipdeck.model import DeployAction, Outcome
from shipdeck.model.capabilities import Capability

from .conftest import RUN_DEADLINE, Demo


async def test_the_seed_builds_are_deployed_as_they_land(demo: Demo) -> None:
    runner = demo.runner
    assert Capability.DEPLOYMENTS in (await runner.capabilities()).can
    runs = await start_seed_runs(runner)
    await asyncio.wait_for(seed_deployments(runner, runs), RUN_DEADLINE * 2)

    held = {(s.service, s.env): s.revision for s in await runner.deployments()}
    ci = next(run for run in runs if run.pipeline == "ci")
    assert held == {
        ("api", "dev"): f"r{ci.id}",
        ("api", "staging"): f"r{ci.id}",
        ("api", "prod"): None,
        ("churn", "staging"): "v1",
        ("churn", "prod"): None,
    }
    staging = await runner.history("api", "staging")
    assert [(e.action, e.outcome, e.reason) for e in staging] == [
        (DeployAction.PROMOTE, Outcome.SUCCEEDED, SEED_REASON)
    ]
    churn = await runner.history("churn", "staging")
    assert [(e.action, e.to_revision, e.reason) for e in churn] == [
        (DeployAction.DEPLOY, "v1", SEED_REASON)
    ]


async def test_a_failed_seed_build_is_not_deployed(demo: Demo) -> None:
    module = demo.root / "app" / "shorturl" / "store.py"
    module.write_text(module.read_text() + "\tbroken = True\n")  # lint fails: ci fails
    runner = demo.runner
    assert Capability.DEPLOYMENTS in (await runner.capabilities()).can
    runs = await start_seed_runs(runner)
    await asyncio.wait_for(seed_deployments(runner, runs), RUN_DEADLINE * 2)
    held = {(s.service, s.env): s.revision for s in await runner.deployments()}
    assert held[("api", "dev")] is None and held[("api", "staging")] is None
    assert held[("churn", "staging")] == "v1"
    assert await runner.history("api") == []
