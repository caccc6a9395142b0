"""Service health on a schedule: each environment a service lists in `health_every` that
holds a revision (and has no action in flight) gets its `health` command run every so often.

Each result is kept (engine/deploy/automation_store.py) and becomes the environment's health; a
change of health is a `health_changed` event. When an environment listed in `auto_rollback`
fails `rollback_after` checks of one revision in a row, it is rolled back to its previous
revision through the ordinary rollback (claim, deploy run, health, history), recorded as
automatic with the reason. Runs only in the process that fires schedules (see Scheduler).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time

from shipdeck.engine.deploy.automation_store import AutomationStore, CheckResult, Recorded
from shipdeck.engine.deploy.deployments import Deployments
from shipdeck.engine.runs.process import kill_group
from shipdeck.engine.runs.task_env import task_environment
from shipdeck.errors import ShipdeckError
from shipdeck.logtext import visible
from shipdeck.model import (
    AutoCause,
    AutoKind,
    DeployAction,
    HealthCheck,
    HistoryEntry,
    Outcome,
    ServiceSpec,
)

DEFAULT_TIMEOUT = 300.0
"""Seconds a scheduled check may take when the service sets no `timeout`."""
OUTPUT_KEPT = 4096
"""Bytes of a check's output kept with its result: the end, where the reason usually is."""
HEALTH_ACTION = "health"
"""$SHIPDECK_ACTION of a scheduled check (deploy, promote and rollback run health too)."""

_log = logging.getLogger("shipdeck.health")


class HealthWatch:
    def __init__(self, deployer: Deployments, store: AutomationStore) -> None:
        self.deployer = deployer
        self.store = store
        self._checks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._last: dict[tuple[str, str], float] = {}
        """(service, env) -> when it was last checked, read from the store once."""
        self._rollbacks: set[asyncio.Task[None]] = set()
        self._stopped = False

    async def tick(self, now: float) -> None:
        """Start the checks that are due at `now` (they go on in the background)."""
        if self._stopped:
            return
        services = [s for s in self.deployer.workspace.services.values() if s.health_every]
        if not services:
            return
        # One read of every environment (it also releases claims of dead processes).
        states = {(s.service, s.env): s for s in self.deployer.deployments()}
        for service in services:
            for env, every in service.health_every.items():
                key = (service.name, env)
                if key in self._checks:
                    continue  # the previous check is still running
                last = self._last.get(key)
                if last is None:
                    last = self.store.last_check_at(service.name, env)
                if last is not None and now < last + every:
                    continue
                state = states.get(key)
                if state is None or state.revision is None or state.in_flight is not None:
                    continue  # nothing to check; an action runs its own health
                self._last[key] = now
                task = asyncio.create_task(
                    self._check(service, env, state.revision, now), name=f"health-{key}"
                )
                self._checks[key] = task
                task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for key, running in list(self._checks.items()):
            if running is task:
                del self._checks[key]

    async def idle(self) -> None:
        """Wait for the checks in progress and the rollbacks they started."""
        while self._checks or self._rollbacks:
            await asyncio.gather(*self._checks.values(), *self._rollbacks, return_exceptions=True)

    async def stop(self) -> None:
        """Start no more checks and stop those in progress (their commands are killed);
        rollbacks under way go on (they end with their deploy run)."""
        self._stopped = True
        for task in list(self._checks.values()):
            task.cancel()
        await asyncio.gather(*self._checks.values(), return_exceptions=True)

    async def _check(self, service: ServiceSpec, env: str, revision: str, now: float) -> None:
        try:
            result = await self._run(service, env, revision, now)
            recorded = self.store.record_check(result)
            self._publish(recorded)
            check = recorded.check
            if (
                not check.passed
                and env in service.auto_rollback
                and check.failures >= service.rollback_after
                and not self._attempted(service.name, env, check.failures)
            ):
                rollback = asyncio.create_task(
                    self._roll_back(service, env, revision, check),
                    name=f"rollback-{service.name}-{env}",
                )
                self._rollbacks.add(rollback)
                rollback.add_done_callback(self._rollbacks.discard)
        except asyncio.CancelledError:
            raise
        except Exception:  # one check's failure must not end the others
            _log.exception("shipdeck: the health check of %s %s failed to run", service.name, env)

    async def _run(self, service: ServiceSpec, env: str, revision: str, now: float) -> CheckResult:
        root = self.deployer.workspace.root
        environ = task_environment(self.deployer.workspace.task_env)
        for name, value in self._variables(service, env, revision).items():
            environ[os.fsencode(name)] = os.fsencode(value)
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            service.health or "",
            cwd=root,
            env=environ,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        kept = bytearray()
        timed_out = False
        try:
            async with asyncio.timeout(service.timeout or DEFAULT_TIMEOUT):
                assert process.stdout is not None
                while chunk := await process.stdout.read(65536):
                    kept += chunk
                    del kept[:-OUTPUT_KEPT]
                await process.wait()
        except TimeoutError:
            timed_out = True
        finally:
            if process.returncode is None:
                await kill_group(process.pid)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        text = "\n".join(visible(line) for line in kept.decode(errors="replace").splitlines())
        if timed_out:
            limit = service.timeout or DEFAULT_TIMEOUT
            text = f"{text}\ntimed out after {limit:g}s".strip()
        return CheckResult(
            service=service.name,
            env=env,
            revision=revision,
            at=now,
            passed=not timed_out and process.returncode == 0,
            exit_code=None if timed_out or (process.returncode or 0) < 0 else process.returncode,
            duration=time.monotonic() - started,
            output=text,
        )

    def _variables(self, service: ServiceSpec, env: str, revision: str) -> dict[str, str]:
        """What the deploy run's health task gets, with SHIPDECK_ACTION=health."""
        artifact = ""
        with contextlib.suppress(ShipdeckError):
            artifact = self.deployer.targets.artifact(service, revision)
        return {
            "SHIPDECK_SERVICE": service.name,
            "SHIPDECK_ENV": env,
            "SHIPDECK_REVISION": revision,
            "SHIPDECK_ARTIFACT": artifact,
            "SHIPDECK_PREVIOUS_REVISION": "",
            "SHIPDECK_ACTION": HEALTH_ACTION,
        }

    def _publish(self, recorded: Recorded) -> None:
        check = recorded.check
        health = "passed" if check.passed else "failed"
        before = (recorded.previous, recorded.previous_revision)
        self.deployer.publish_health((check.service, check.env, check.revision), health, before)

    def _attempted(self, service: str, env: str, failures: int) -> bool:
        """Whether this streak of failures led to a rollback already: one per streak, unless
        it was interrupted (the process running it died), which the next failure retries."""
        for history_id in self.store.streak_rollbacks(service, env, failures):
            entry = self.deployer.store.entry(history_id) if history_id else None
            if entry is None or entry.outcome != Outcome.INTERRUPTED:
                return True
        return False

    async def _roll_back(
        self, service: ServiceSpec, env: str, revision: str, check: HealthCheck
    ) -> None:
        failures, output = check.failures, check.output
        state = self.deployer.store.state(service.name, env)
        if state.revision != revision or state.in_flight is not None:
            return  # someone acted while the check ran: their action decides now
        last = _last_change(self.deployer.store.history(service.name, env, limit=50))
        if last is not None and last.action == DeployAction.ROLLBACK and last.automatic:
            # Rolling back again would return to the revision just rolled back from.
            self.store.rolled_back(check.id, 0)  # said once per streak
            _log.warning(
                "shipdeck: %s %s: health failed %d times in a row, but %s is where an automatic"
                " rollback left it; not rolling back again (a person decides now)",
                service.name,
                env,
                failures,
                revision,
            )
            return
        last_line = output.strip().splitlines()[-1:] or [""]
        why = f": {last_line[0][:120]}" if last_line[0] else ""
        cause = AutoCause(
            kind=AutoKind.HEALTH,
            text=f"health failed {failures} times in a row on {revision}{why}",
            failures=failures,
        )
        try:
            # Noted with the claim, in this process's next step: if it dies during the
            # rollback, the claim ends interrupted and the next failed check tries again.
            entry = await self.deployer.rollback(
                service.name,
                env,
                expect=revision,
                cause=cause,
                on_claim=lambda claimed: self.store.rolled_back(check.id, claimed.id),
            )
        except ShipdeckError as error:
            self.store.rolled_back(check.id, 0)  # not claimed (a conflict, no way back)
            _log.warning(
                "shipdeck: %s %s: health failed %d times in a row; automatic rollback not done: %s",
                service.name,
                env,
                failures,
                error,
            )
            return
        _log.warning(
            "shipdeck: %s %s: health failed %d times in a row; rolled back %s -> %s: %s",
            service.name,
            env,
            failures,
            revision,
            entry.to_revision,
            entry.outcome.value,
        )


def _last_change(history: list[HistoryEntry]) -> HistoryEntry | None:
    """The newest action that changed the environment."""
    return next((entry for entry in history if entry.outcome == Outcome.SUCCEEDED), None)
