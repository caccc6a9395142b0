"""What one runner's engine does by itself, and the books behind it: schedules (listed,
paused, fired), monitor checks and their alerts, `[notify]` notifications, and the
deployments' scheduled health checks and promotion policies.

The books open on first use. Firing starts only in the process that calls `start` (the
daemon and `shipdeck serve`; one-shot commands never). The modules behind it are imported
when first needed: a one-shot command that lists runs loads none of them."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from shipdeck import model as m
from shipdeck.engine.deploy.deployments import Deployments

if TYPE_CHECKING:
    from shipdeck.engine.automation.monitors import Monitors
    from shipdeck.engine.automation.notify import Notifier
    from shipdeck.engine.automation.schedule_store import ScheduleStore
    from shipdeck.engine.automation.scheduler import Scheduler
    from shipdeck.engine.automation.schedules import ScheduleBook
    from shipdeck.engine.deploy.automation import Automation

RECENT_VALUES = 30
"""Checks of a monitor whose value of its first threshold's metric a listing shows."""


class Autopilot:
    def __init__(self, deployer: Deployments, workspace: Callable[[], m.WorkspaceSpec]) -> None:
        """`workspace()` gives the configuration to fire with: the runner's workspace file,
        or while it does not load the last one that did. A typo must not silently stop
        scheduled checks, health checks and automatic rollback."""
        self.deployer = deployer
        self.engine = deployer.engine
        self._workspace = workspace
        self.scheduler: Scheduler | None = None
        self.deploy_automation: Automation | None = None
        self._schedule_store: ScheduleStore | None = None
        self._monitors: Monitors | None = None
        self._notifier: Notifier | None = None

    def clock(self) -> float:
        """Now, by the scheduler's clock once it fires (tests pin it)."""
        return self.scheduler.clock() if self.scheduler is not None else time.time()

    # Schedules --------------------------------------------------------------------------

    def _store(self) -> ScheduleStore:
        from shipdeck.engine.automation.schedule_store import ScheduleStore

        if self._schedule_store is None:
            self._schedule_store = ScheduleStore(self.engine.store.path)
        return self._schedule_store

    def schedule_book(self) -> ScheduleBook:
        from shipdeck.engine.automation.schedules import ScheduleBook

        return ScheduleBook(self._store(), self.engine.workspace.state_dir, self.clock)

    def schedule_action(
        self, verb: Literal["pause", "resume"], name: str, *, user: str, reason: str
    ) -> m.ScheduleAction:
        """Pause or resume a trigger (or a pipeline's), recorded with who and published."""
        book = self.schedule_book()
        act = book.pause if verb == "pause" else book.resume
        action = act(self.engine.workspace, name, user=user, reason=reason)
        self.engine.feed.publish(m.EventKind.SCHEDULE, action)
        return action

    def start(self, *, clock: Callable[[], float] | None = None) -> Scheduler:
        """Fire the workspace's schedules, monitor checks, health checks and promotion
        policies from this process, and send its notifications. Only one process per
        workspace fires at a time: the others stand by (see Scheduler)."""
        from shipdeck.engine.automation.notify import Notifier
        from shipdeck.engine.automation.scheduler import Scheduler
        from shipdeck.engine.deploy.automation import Automation
        from shipdeck.engine.runs.task_env import task_environment

        if self.scheduler is None:
            self.scheduler = Scheduler(
                self.engine,
                self._store(),
                self._workspace,
                user=f"scheduler@{socket.gethostname()}",
                clock=clock or time.time,
                monitors=self.monitors(),
            )
            self._notifier = Notifier(
                self.engine.feed,
                lambda: self.engine.workspace.notify,
                self.engine.workspace.root,
                lambda: task_environment(self.engine.workspace.task_env),
            )
            self._notifier.start()
            self.deploy_automation = Automation(self.deployer)
            self.scheduler.watchers.append(self.deploy_automation.tick)
        return self.scheduler

    @property
    def firing(self) -> bool:
        """True while this process fires and there is something to fire: schedules, or a
        service's scheduled health checks or promotion policy (an idle daemon would leave
        them undone)."""
        if self.scheduler is None:
            return False
        automatic = any(
            service.health_every or service.auto_promote is not None
            for service in self.deployer.workspace.services.values()
        )
        return automatic or self.scheduler.has_work()

    # Monitors ---------------------------------------------------------------------------

    def monitors(self) -> Monitors:
        from shipdeck.engine.automation.monitor_store import MonitorStore
        from shipdeck.engine.automation.monitors import Monitors

        if self._monitors is None:
            store = MonitorStore(self.engine.store.path)
            self._monitors = Monitors(self.engine, store, clock=self.clock)
        return self._monitors

    async def monitor_infos(self) -> list[m.MonitorInfo]:
        """Every monitor the workspace declares: its schedule, state, last check, open
        alerts and the recent values of its first threshold's metric."""
        book = self.monitors()
        await book.settle()
        latest = book.store.latest()
        running = {check.monitor for check in book.store.running()}
        counts = book.store.open_counts()
        timed = {
            item.monitor: item
            for item in self.schedule_book().listing(self.engine.workspace).schedules
            if item.monitor is not None
        }
        listed = []
        for name, spec in self.engine.workspace.monitors.items():
            last = latest.get(name)
            schedule = timed.get(name)
            metric = spec.thresholds[0].metric if spec.thresholds else None
            recent = [
                check.values[metric]
                for check in reversed(book.store.history(name, RECENT_VALUES))
                if metric is not None and metric in check.values
            ]
            listed.append(
                m.MonitorInfo(
                    name=name,
                    description=spec.description,
                    rule=schedule.rule if schedule is not None else "manual",
                    thresholds=[threshold.text for threshold in spec.thresholds],
                    watches=dict(spec.watches),
                    state=None if last is None else last.verdict,
                    last_check=last,
                    running=name in running,
                    next_at=None if schedule is None else schedule.next_at,
                    paused=schedule is not None and schedule.paused,
                    open_alerts=counts.get(name, 0),
                    recent=recent,
                )
            )
        return listed

    # Closing ----------------------------------------------------------------------------

    async def stop(self) -> None:
        """Fire nothing more (before the engine closes). Deploy actions under way go on:
        they end with their deploy run, when the engine closes at the latest."""
        if self.deploy_automation is not None:
            await self.deploy_automation.stop()
        if self.scheduler is not None:
            await self.scheduler.stop()

    async def close(self) -> None:
        """After the engine closed: stop notifying, close the books, and wait until the
        automatic actions have recorded their outcome."""
        if self._notifier is not None:
            await self._notifier.close()
            self._notifier = None
        if self._monitors is not None:
            await self._monitors.close()
            self._monitors.store.close()
            self._monitors = None
        if self._schedule_store is not None:
            self._schedule_store.close()
            self._schedule_store = None
        if self.deploy_automation is not None:
            await self.deploy_automation.idle()
