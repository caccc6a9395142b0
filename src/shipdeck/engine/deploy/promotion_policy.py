"""Promotion policies: a new `challenger` version of a service's model is compared with the
`champion` by the service's `auto_promote` policy and, when the policy holds, deployed to the
policy's environment through the ordinary deploy (gates, compare-and-swap claim, deploy run),
recorded as automatic with its cause.

The watcher reads the moves of the `challenger` alias (a task's `registers.alias`, or a person
moving it) after a cursor. A challenger whose registering run is still going holds the later
ones back until it ends; one whose run did not succeed is not promoted. Each verdict is
written before it is acted on, keyed by (service, move), so nothing is promoted twice.
Runs only in the process that fires schedules (see Scheduler).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shipdeck.engine.deploy.automation_store import AutomationStore
from shipdeck.engine.deploy.deployments import Deployments
from shipdeck.engine.deploy.gates import holds
from shipdeck.errors import NotFound, ShipdeckError
from shipdeck.model import (
    CHALLENGER,
    CHAMPION,
    EMPTY_REVISION,
    AliasMove,
    AutoCause,
    AutoKind,
    ModelVersion,
    PolicyTerm,
    Run,
    RunStatus,
    ServiceSpec,
)

CURSOR = "policy.challenger"
"""The automation cursor: the last alias move the watcher has handled."""

_log = logging.getLogger("shipdeck.policy")


@dataclass(frozen=True)
class Verdict:
    held: bool
    reasons: list[str]

    @property
    def text(self) -> str:
        return "; ".join(self.reasons)


def evaluate_policy(
    terms: Sequence[PolicyTerm],
    challenger: Mapping[str, float],
    champion: ModelVersion | None,
) -> Verdict:
    """Whether every term holds for the challenger's metrics, each with its values."""
    reasons: list[str] = []
    held = True
    for term in terms:
        value = challenger.get(term.metric)
        if value is None:
            held = False
            reasons.append(f"the challenger has no metric {term.metric!r}")
            continue
        if term.champion_metric is None:
            bound, shown = term.offset, f"{term.offset:.6g}"
        else:
            if champion is None:
                held = False
                reasons.append(f"{term.text}: there is no champion to compare with")
                continue
            base = champion.metrics.get(term.champion_metric)
            if base is None:
                held = False
                reasons.append(
                    f"{term.text}: the champion {champion.revision} has no metric"
                    f" {term.champion_metric!r}"
                )
                continue
            bound = base + term.offset
            shown = f"champion.{term.champion_metric} {base:.6g}"
            if term.offset:
                sign = "+" if term.offset > 0 else "-"
                shown += f" {sign} {abs(term.offset):.6g}"
        passed, op = holds(value, term.op, bound)
        held = held and passed
        reasons.append(f"{term.metric} {value:.6g} {op} {shown}")
    return Verdict(held, reasons)


class PolicyWatch:
    def __init__(self, deployer: Deployments, store: AutomationStore) -> None:
        self.deployer = deployer
        self.store = store
        self._actions: set[asyncio.Task[None]] = set()
        """Automatic deploys in progress."""
        self._stopped = False
        self._armed: bool | None = None
        """Whether a policy was declared at the last look (None: not looked yet)."""

    async def idle(self) -> None:
        while self._actions:
            await asyncio.gather(*self._actions, return_exceptions=True)

    def stop(self) -> None:
        """Decide nothing more (deploys under way go on: they end with their run)."""
        self._stopped = True

    async def tick(self, now: float) -> None:
        if self._stopped:
            return
        services = [
            service
            for service in self.deployer.workspace.services.values()
            if service.auto_promote is not None
            and service.model is not None
            # The file refuses this without allow_prod; a spec built otherwise is held to it.
            and (
                service.auto_promote.allow_prod
                or not service.is_production(service.auto_promote.to)
            )
        ]
        if not services:
            if self._armed is not False:
                # No policy now: one declared again later starts afresh, as a new one does.
                self.store.clear_cursor(CURSOR)
                self._armed = False
            return
        self._armed = True
        registry = self.deployer.registry
        cursor = self.store.cursor(CURSOR)
        if cursor is None:
            # First sight: challengers named before the policy existed are not acted on.
            self.store.set_cursor(CURSOR, registry.last_alias_move())
            return
        handled = cursor
        for move in registry.moves_of_alias(CHALLENGER, after=cursor):
            if move.to_version is None:  # the alias was taken off: no challenger to judge
                handled = move.id
                continue
            run = self._registering_run(move)
            if run is not None and not run.status.finished:
                break  # decided when its run ends; later challengers wait for it
            for service in services:
                if service.model == move.model:
                    await self._decide(service, move, run, now)
            handled = move.id
        if handled > cursor:
            self.store.set_cursor(CURSOR, handled)

    def _registering_run(self, move: AliasMove) -> Run | None:
        if move.to_version is None:
            return None
        try:
            version = self.deployer.registry.resolve(move.model, move.to_version)
            return self.deployer.engine.get_run(version.run_id)
        except NotFound:
            return None

    async def _decide(
        self, service: ServiceSpec, move: AliasMove, run: Run | None, now: float
    ) -> None:
        policy = service.auto_promote
        assert policy is not None and service.model is not None and move.to_version is not None
        registry = self.deployer.registry
        challenger = registry.resolve(move.model, move.to_version)
        champion_number = registry.aliases(move.model).get(CHAMPION)
        champion = (
            None if champion_number is None else registry.resolve(move.model, champion_number)
        )
        source = f"run {run.label}" if run is not None else move.user
        named = f"{source} made {service.model} {challenger.revision} the challenger"
        if run is not None and run.status != RunStatus.SUCCEEDED:
            verdict = Verdict(False, [f"run {run.label} {run.status.value}: not promoted"])
        else:
            verdict = evaluate_policy(policy.terms, challenger.metrics, champion)
        condition = policy.condition or "(no condition)"
        detail = f"if {condition}: {verdict.text or 'holds'}"
        decision = self.store.decide(
            service=service.name,
            env=policy.to,
            model=move.model,
            version=move.to_version,
            move_id=move.id,
            at=now,
            held=verdict.held,
            detail=detail,
        )
        if decision is None:
            return  # decided before (by this process before a restart, or another)
        if not verdict.held:
            _log.info(
                "shipdeck: %s: %s; not deployed to %s: %s",
                service.name,
                named,
                policy.to,
                detail,
            )
            return
        state = self.deployer.store.state(service.name, policy.to)
        if state.revision == challenger.revision:
            self.store.acted(decision, f"{detail}; {policy.to} holds it already", None)
            return
        held = (
            f"the policy holds: {verdict.text}" if verdict.text else "the policy has no condition"
        )
        cause = AutoCause(
            kind=AutoKind.POLICY,
            text=f"{named} and {held}",
            run_id=None if run is None else run.id,
            alert_id=alert_behind(run),
            model=move.model,
            version=move.to_version,
        )
        task = asyncio.create_task(
            self._deploy(service, challenger.revision, state.revision, cause, decision, detail),
            name=f"policy-{service.name}-{challenger.revision}",
        )
        self._actions.add(task)
        task.add_done_callback(self._actions.discard)

    async def _deploy(
        self,
        service: ServiceSpec,
        revision: str,
        holding: str | None,
        cause: AutoCause,
        decision: int,
        detail: str,
    ) -> None:
        policy = service.auto_promote
        assert policy is not None
        try:
            # The environment must still hold what was read here: a person acting meanwhile
            # wins, and this action is recorded as a conflict.
            entry = await self.deployer.deploy(
                service.name,
                revision,
                policy.to,
                expect=holding or EMPTY_REVISION,
                cause=cause,
            )
        except ShipdeckError as error:
            self.store.acted(decision, f"{detail}; not deployed: {error}", None)
            _log.warning("shipdeck: %s: automatic deploy not done: %s", service.name, error)
            return
        self.store.acted(decision, f"{detail}; deploy {entry.outcome.value}", entry.id)
        _log.info(
            "shipdeck: %s: %s; deployed %s to %s: %s (history #%d)",
            service.name,
            cause.text,
            revision,
            policy.to,
            entry.outcome.value,
            entry.id,
        )


def alert_behind(run: Run | None) -> int | None:
    """The alert that started the run (a retraining `on_alert`), when its cause names one:
    the promotion it leads to then reads `automatic, because alert #N: ...`. Read by name,
    so the alert field of RunCause (monitors) needs no change here."""
    if run is None or run.cause is None:
        return None
    for field in ("alert_id", "alert"):
        value = getattr(run.cause, field, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
