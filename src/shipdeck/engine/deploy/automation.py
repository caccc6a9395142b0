"""The runner's automatic half of deployments: scheduled health checks (with automatic
rollback) and promotion policies, looked at by the scheduler of the process that fires
schedules, at each of its looks."""

from __future__ import annotations

from shipdeck.engine.deploy.automation_store import AutomationStore
from shipdeck.engine.deploy.deployments import Deployments
from shipdeck.engine.deploy.health_watch import HealthWatch
from shipdeck.engine.deploy.promotion_policy import PolicyWatch


class Automation:
    def __init__(self, deployer: Deployments) -> None:
        self.store = AutomationStore(deployer.ledger)
        self.health = HealthWatch(deployer, self.store)
        self.policy = PolicyWatch(deployer, self.store)

    async def tick(self, now: float) -> None:
        """One look at `now` (the scheduler's clock): start due health checks, decide on
        new challengers. Checks and the actions they start go on in the background."""
        await self.policy.tick(now)
        await self.health.tick(now)

    async def idle(self) -> None:
        """Wait for the health checks in progress and the actions they (and policies)
        started."""
        await self.health.idle()
        await self.policy.idle()

    async def stop(self) -> None:
        """Start nothing more, and stop the health checks in progress. Actions under way
        go on: they end with their deploy run (when the engine closes, at the latest);
        `idle()` then waits for their outcome to be recorded."""
        self.policy.stop()
        await self.health.stop()
