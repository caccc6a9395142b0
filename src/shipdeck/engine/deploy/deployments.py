"""Deploy, promote and roll back: gates first, then a claim on the environment, then the
service's deploy (and health) commands as a tracked run, then the outcome, all recorded."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Unpack

from shipdeck.engine.deploy.automation_store import AutomationStore
from shipdeck.engine.deploy.deploy_store import ActionRecord, DeployStore
from shipdeck.engine.deploy.gates import evaluate_gates
from shipdeck.engine.deploy.ledger import Ledger
from shipdeck.engine.deploy.model_registries import NoRegistries, Registries, VersionTable
from shipdeck.engine.deploy.registration import RegistrationHook
from shipdeck.engine.deploy.registry import Registry
from shipdeck.engine.deploy.targets import Target, TargetResolver, pipeline_for
from shipdeck.engine.runs.engine import Engine
from shipdeck.engine.runs.owners import owner_alive
from shipdeck.errors import InvalidInput, NotFound, Refused, ShipdeckError
from shipdeck.model import (
    ActionPlan,
    AutoCause,
    DeployAction,
    EnvironmentState,
    EventKind,
    HealthCheck,
    HealthData,
    HistoryEntry,
    Outcome,
    PlannedTask,
    Run,
    RunStatus,
    TaskStatus,
    WorkspaceSpec,
)
from shipdeck.model.options import ActionOptions, DeployOptions, RollbackOptions
from shipdeck.model.text import text_problem


def _now() -> datetime:
    return datetime.now(UTC)


class Deployments:
    """The deployment side of one engine: registry, environments, actions and their history."""

    def __init__(
        self,
        engine: Engine,
        *,
        user: str,
        clock: Callable[[], datetime] = _now,
        registries: Registries | None = None,
    ) -> None:
        self.engine = engine
        self.registries: Registries = registries or NoRegistries()
        """Where services with `registry = NAME` find their model's versions."""
        self.workspace = engine.workspace
        self.user = user
        self.automatic_user = f"shipdeck@{socket.gethostname()}"
        """Who automatic actions are recorded as (the runner itself)."""
        self.clock = clock
        self.ledger = Ledger(engine.store.path)
        self.registry = Registry(self.ledger)
        self.store = DeployStore(self.ledger)
        self.targets = TargetResolver(self.workspace, self.registry, self.store, engine)
        if not any(isinstance(hook, RegistrationHook) for hook in engine.on_task_succeeded):
            # One per engine, however many Deployments share it: a version is registered once.
            engine.on_task_succeeded.append(
                RegistrationHook(self.workspace, self.registry, engine.run_detail, engine.feed)
            )
        self._owners_dir = self.workspace.state_dir / "owners"
        self._in_flight = 0
        self._actions: set[asyncio.Task[HistoryEntry]] = set()
        """Actions started with wait=False, until they end."""
        self._idle = asyncio.Event()
        self._idle.set()
        self._release_dead_claims()

    async def close(self, grace: float = 10.0) -> None:
        """Close the ledger once in-flight actions have recorded their outcome (their runs end
        when the engine closes; an action still unfinished after `grace` seconds is left to crash
        recovery)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self._idle.wait()
        self.ledger.close()
        await self.registries.close()

    def use(self, workspace: WorkspaceSpec) -> None:
        """Work with `workspace` from now on (the runner's file changed): the parts made with
        the one before are handed it too."""
        self.workspace = workspace
        self.targets.workspace = workspace
        for hook in self.engine.on_task_succeeded:
            if isinstance(hook, RegistrationHook):
                hook.workspace = workspace

    async def settled(self) -> None:
        """Wait until no action of this process is in progress."""
        await self._idle.wait()

    @property
    def busy(self) -> bool:
        """True while a deploy, promote or rollback is in progress (gates passed to outcome)."""
        return self._in_flight > 0

    def _owner_alive(self, owner: str) -> bool:
        return owner == self.engine.owner.name or owner_alive(self._owners_dir, owner)

    def _release_dead_claims(self) -> None:
        """Actions whose process died (a `shipdeck deploy` run in process, killed) end
        interrupted, and so do their deploy runs. Checked on every read, as the engine does
        for runs, so a long-lived process (the daemon, a TUI) never shows a dead action in
        flight until the next engine happens to open."""
        for entry in self.store.release_dead_claims(self._owner_alive, self.clock):
            if entry.run_id is not None:
                with contextlib.suppress(NotFound):
                    self.engine.get_run(entry.run_id)  # marks it interrupted, with its events
            self._publish(EventKind.DEPLOY_FINISHED, entry)

    # Reads ------------------------------------------------------------------------------

    def deployments(self) -> list[EnvironmentState]:
        """Every environment of every service, in declaration order."""
        self._release_dead_claims()
        result: list[EnvironmentState] = []
        for service in self.workspace.services.values():
            states = self.store.states(service.name)
            for env in service.environments:
                result.append(states.get(env) or EnvironmentState(service=service.name, env=env))
        return result

    def history(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HistoryEntry]:
        self.targets.service_and_env(service, env)
        self._release_dead_claims()
        return self.store.history(service, env, limit=limit)

    def health_checks(
        self, service: str, env: str | None = None, *, limit: int = 100
    ) -> list[HealthCheck]:
        """Scheduled health checks of a service (or one environment), newest first."""
        self.targets.service_and_env(service, env)
        return AutomationStore(self.ledger).checks(service, env, limit=limit)

    # Planning ---------------------------------------------------------------------------

    async def plan_deploy(self, service: str, revision: str, env: str) -> ActionPlan:
        await self._read_registry(service)
        return self._plan(self.targets.deploy(service, revision, env))

    async def plan_promote(self, service: str, to_env: str) -> ActionPlan:
        await self._read_registry(service)
        return self._plan(self.targets.promote(service, to_env))

    async def plan_rollback(self, service: str, env: str, to: str | None = None) -> ActionPlan:
        await self._read_registry(service)
        return self._plan(self.targets.rollback(service, env, to))

    async def _read_registry(self, name: str) -> None:
        """For a service whose model another runner holds: read its versions now, so the plan
        resolves and gates what the registry holds at this moment."""
        service = self.workspace.services.get(name)
        if service is None or service.registry is None or service.model is None:
            return
        registry = self.registries.registry(service.registry)
        versions = await registry.model_versions(service.model)
        table = VersionTable(service.registry, service.model, tuple(versions))
        self.targets.external[(service.registry, service.model)] = table

    def _plan(self, target: Target) -> ActionPlan:
        self._release_dead_claims()  # the gates read the environments' states
        service = target.service
        gates = []
        if target.action != DeployAction.ROLLBACK:
            gates = evaluate_gates(
                service.gates.get(target.env, ()),
                self.targets.facts(service, target.to_revision),
                self.store.states(service.name),
                self.clock(),
            )
        spec = pipeline_for(service, target.variables)
        return ActionPlan(
            service=service.name,
            env=target.env,
            action=target.action,
            from_revision=target.from_revision,
            to_revision=target.to_revision,
            source_env=target.source_env,
            tasks=[PlannedTask(name=t.name, command=t.run) for t in spec.tasks.values()],
            environment=target.variables,
            gates=gates,
        )

    # Acting -----------------------------------------------------------------------------

    async def deploy(
        self,
        service: str,
        revision: str,
        env: str,
        *,
        cause: AutoCause | None = None,
        **options: Unpack[DeployOptions],
    ) -> HistoryEntry:
        plan = await self.plan_deploy(service, revision, env)
        return await self._act(plan, options, force=options.get("force", False), cause=cause)

    async def promote(
        self, service: str, to_env: str, **options: Unpack[DeployOptions]
    ) -> HistoryEntry:
        plan = await self.plan_promote(service, to_env)
        return await self._act(plan, options, force=options.get("force", False))

    async def rollback(
        self,
        service: str,
        env: str,
        *,
        cause: AutoCause | None = None,
        on_claim: Callable[[HistoryEntry], None] | None = None,
        **options: Unpack[RollbackOptions],
    ) -> HistoryEntry:
        plan = await self.plan_rollback(service, env, options.get("to"))
        return await self._act(plan, options, cause=cause, on_claim=on_claim)

    async def _act(
        self,
        plan: ActionPlan,
        options: ActionOptions,
        *,
        force: bool = False,
        cause: AutoCause | None = None,
        on_claim: Callable[[HistoryEntry], None] | None = None,
    ) -> HistoryEntry:
        """Gates, claim, deploy run started: then the finished entry, or with `wait=False` the
        entry in flight (outcome running, its run id set) while the action goes on here; its
        end is the `deploy_finished` event. An automatic action (`cause` set) is the same
        action, recorded as the runner's (`automatic_user`) with the cause as its reason.
        `on_claim` is called with the entry once the environment is claimed (before its run
        starts)."""
        expect, reason = options.get("expect"), options.get("reason", "")
        if (problem := text_problem(reason)) is not None:
            raise InvalidInput(f"reason refused: {problem}")
        record = ActionRecord(
            service=plan.service,
            env=plan.env,
            action=plan.action,
            from_revision=plan.from_revision,
            to_revision=plan.to_revision,
            user=self.user if cause is None else self.automatic_user,
            reason=reason if cause is None else cause.because,
            gates=plan.gates,
            forced=force and not plan.gates_passed,
            cause=cause,
        )
        failed = plan.failed_gates
        if failed and not force:
            detail = "; ".join(f"{gate.gate}: {gate.reason}" for gate in failed)
            self.store.record(record, Outcome.REFUSED, f"gate failed: {detail}", self.clock())
            raise Refused(
                f"{plan.action.value} of {plan.service} {plan.to_revision} to {plan.env} refused:"
                f" gate failed: {detail} (use --force to override)"
            )
        entry = self.store.claim(
            record,
            expect=expect,
            owner=self.engine.owner.name,
            owner_alive=self._owner_alive,
            now=self.clock(),
        )
        self._in_flight += 1
        self._idle.clear()
        try:
            if on_claim is not None:
                on_claim(entry)
            run = self._start_run(plan, record.user)
        except BaseException:
            await self._end(plan, entry, None)
            raise
        self.store.attach_run(entry.id, run.id)
        entry = entry.model_copy(update={"run_id": run.id})
        self._publish(EventKind.DEPLOY_STARTED, entry)
        if options.get("wait", True):
            return await self._end(plan, entry, run.id)
        # Held here, not by the caller: the action outlives the request that started it.
        task = asyncio.create_task(self._end(plan, entry, run.id), name=f"deploy-{entry.id}")
        self._actions.add(task)
        task.add_done_callback(self._actions.discard)
        return entry

    async def _end(self, plan: ActionPlan, entry: HistoryEntry, run_id: str | None) -> HistoryEntry:
        """Wait for the deploy run, judge it, record the outcome and release the claim."""
        outcome, detail, health = Outcome.FAILED, "the deploy run did not finish", None
        try:
            if run_id is not None:
                finished = await self.engine.wait_run(run_id)
                outcome, detail, health = self._judge(plan, finished)
                if outcome == Outcome.SUCCEEDED:
                    detail += await self._move_alias(plan, entry)
        finally:
            before = self.store.states(entry.service).get(entry.env)
            entry = self.store.finish(entry, outcome, detail, health=health, now=self.clock())
            self._publish(EventKind.DEPLOY_FINISHED, entry)
            if health is not None:
                at = (entry.service, entry.env, entry.to_revision)
                was = (None, None) if before is None else (before.health, before.health_revision)
                self.publish_health(at, health, was, run_id=entry.run_id)
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()
        return entry

    async def _move_alias(self, plan: ActionPlan, entry: HistoryEntry) -> str:
        """Point the service's alias for this environment (`aliases.prod = "champion"`) at
        what it now holds; what happened, for the history's detail. A move that fails leaves
        the deploy done and says why."""
        service = self.workspace.services.get(plan.service)
        alias = service.aliases.get(plan.env) if service is not None else None
        if service is None or alias is None or service.model is None:
            return ""
        version = plan.to_revision.removeprefix("v")
        why = f"{plan.env} of {plan.service} holds {plan.to_revision} (history #{entry.id})"
        try:
            if service.registry is not None:
                registry = self.registries.registry(service.registry)
                move = await registry.alias(service.model, alias, version, reason=why)
            else:
                move = self.registry.set_alias(
                    service.model, alias, version, user=entry.user, now=self.clock()
                )
                self.engine.feed.publish(EventKind.ALIAS_MOVED, move)
        except ShipdeckError as error:
            return f"; alias {alias} not moved: {error}"
        before = f"v{move.from_version}" if move.from_version else "nothing"
        return f"; alias {alias}: {before} -> v{move.to_version}"

    def _publish(self, kind: EventKind, entry: HistoryEntry) -> None:
        self.engine.feed.publish(kind, entry, run_id=entry.run_id)

    def publish_health(
        self,
        at: tuple[str, str, str],
        health: str,
        before: tuple[str | None, str | None],
        *,
        run_id: str | None = None,
    ) -> None:
        """Say that the health of (service, env, revision) `at` is now `health`, unless
        `before` (the environment's health and the revision it was for) already said so."""
        service, env, revision = at
        if (health, revision) == before:
            return
        change = HealthData(
            service=service, env=env, revision=revision, health=health, previous=before[0]
        )
        self.engine.feed.publish(EventKind.HEALTH_CHANGED, change, run_id=run_id)

    def _start_run(self, plan: ActionPlan, user: str) -> Run:
        service = self.workspace.services[plan.service]
        spec = pipeline_for(service, plan.environment)
        params = {
            "service": plan.service,
            "env": plan.env,
            "revision": plan.to_revision,
            "action": plan.action.value,
        }
        return self.engine.start_pipeline(spec, dict(params), jobs=1, trigger="deploy", user=user)

    def _judge(self, plan: ActionPlan, run: Run) -> tuple[Outcome, str, str | None]:
        """The action's outcome from its finished run, and the health result if it ran."""
        detail = self.engine.run_detail(run.id)
        deploy = detail.task("deploy")
        health = detail.task("health")
        health_result = None
        if health is not None and health.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED):
            health_result = "passed" if health.status == TaskStatus.SUCCEEDED else "failed"
        if run.status == RunStatus.SUCCEEDED:
            return Outcome.SUCCEEDED, f"run {run.label} succeeded", health_result
        for task in (deploy, health):
            if task is not None and task.status != TaskStatus.SUCCEEDED:
                why = task.reason or task.status.value
                return (
                    Outcome.FAILED,
                    f"{task.name} {task.status.value}: {why}; {plan.env} keeps"
                    f" {plan.from_revision or 'nothing'}"
                    f" (logs: shipdeck logs {run.id} {task.name})",
                    health_result,
                )
        return Outcome.FAILED, f"run {run.label} {run.status.value}", health_result
