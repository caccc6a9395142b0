"""The scheduler: starts the runs that schedules and triggers call for.

Exactly one process per workspace fires: the one holding the scheduler lock (the workspace
daemon or `shipdeck serve`; never a one-shot command). Each fire is recorded in the same
transaction as the run it starts, keyed by (trigger, slot), and moves the trigger's cursor:
a restarted runner, or a second one on the same store, finds the slot taken and fires
nothing twice. What came due while no process was firing starts at most one run per
trigger (unless `catchup = true`), and that run says how many it stands for.

`tick()` is one look at every trigger at the clock's time; tests drive it with their own
clock, the runner calls it about once a second.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from shipdeck.background import stop_task
from shipdeck.engine.automation.file_watch import FileDigests, diff
from shipdeck.engine.automation.monitors import Monitors
from shipdeck.engine.automation.schedule_rules import TimeRule
from shipdeck.engine.automation.schedule_store import Fire, ScheduleStore, SlotTaken, TriggerState
from shipdeck.engine.automation.schedules import SchedulerLock, Trigger, paused_by, triggers_of
from shipdeck.engine.runs.engine import Engine
from shipdeck.model import (
    EventKind,
    Run,
    RunCause,
    RunStatus,
    ScheduleFiredData,
    TriggerKind,
    WorkspaceSpec,
)
from shipdeck.model.ids import run_label
from shipdeck.workspace import resolve_params
from shipdeck.workspace.durations import format_duration

TICK = 1.0
"""Seconds between two looks when the runner drives the scheduler."""
MAX_CATCHUP = 100
"""With `catchup = true`, runs started for missed slots after downtime at most (the newest)."""
MAX_CAUSE_FILES = 100
RUNS_PER_LOOK = 5000
"""Runs an on_success look reads at most (the rest on the next look)."""

_log = logging.getLogger("shipdeck.scheduler")


@dataclass
class _Pending:
    """Files seen changed and not yet stable for the debounce period."""

    signature: str
    since: float


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        store: ScheduleStore,
        workspace: Callable[[], WorkspaceSpec | None],
        *,
        user: str,
        clock: Callable[[], float] = time.time,
        monitors: Monitors | None = None,
    ) -> None:
        """`workspace()` gives the configuration to fire with (the runner's last good one
        while the workspace file does not load), or None to fire nothing.
        `monitors` starts the checks of monitors' schedules (None: they do not fire)."""
        self.engine = engine
        self.monitors = monitors
        self.store = store
        self.workspace = workspace
        self.user = user
        self.clock = clock
        self.lock = SchedulerLock(engine.workspace.state_dir)
        self._digests = FileDigests(engine.workspace.root)
        self._pending: dict[str, _Pending] = {}
        self._rules: dict[str, tuple[str, TimeRule]] = {}
        self._next_due: dict[str, tuple[float, float]] = {}
        """name -> (cursor, the first slot after it): timed triggers not due are skipped
        without computing their slots again."""
        self._task: asyncio.Task[None] | None = None
        self._known: tuple[WorkspaceSpec, list[Trigger]] | None = None
        self._recorded: dict[str, tuple[int, dict[str, str]]] = {}
        """name -> (generation, the digests recorded at it): read from the store once."""
        self.watchers: list[Callable[[float], Awaitable[None]]] = []
        """More of the firing process's periodic work (scheduled health checks, promotion
        policies): called with the clock's time at each look, after the triggers."""

    # Running ------------------------------------------------------------------------------

    def start(self) -> None:
        """Look every TICK seconds in the background until `stop()`."""
        if self._task is None:
            self.lock.acquire()  # at once: a client listing schedules sees who fires them
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        self.lock.release()

    @property
    def active(self) -> bool:
        """True while this process is the one that fires (it holds the scheduler lock)."""
        return self.lock.held

    def has_work(self) -> bool:
        """True when the workspace declares a schedule or trigger (the daemon stays up).
        While the file does not load, the last configuration that did counts (it keeps
        firing)."""
        self.workspace()  # follows the file
        return bool(self._triggers(self.engine.workspace))

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a busy database or a broken file must not end the scheduler
                _log.exception("shipdeck: the scheduler's look failed; trying again")
            await asyncio.sleep(TICK)

    async def tick(self) -> list[Run]:
        """Fire whatever is due now; returns the runs started."""
        if not self.lock.acquire():
            return []
        workspace = self.workspace()
        if workspace is None:
            return []
        now = self.clock()
        if self.monitors is not None:
            self.monitors.recover()  # checks whose process died before judging them
        pauses = self.store.pauses()
        states = self.store.states()
        started: list[Run] = []
        live: list[tuple[Trigger, TriggerState]] = []
        for trigger in self._triggers(workspace):
            if paused_by(trigger, pauses) is not None:
                continue
            state = states.get(trigger.name)
            if state is None or state.rule != trigger.rule:
                await self._arm(trigger, trigger.rule, now)
            else:
                live.append((trigger, state))
        watching = [(t, s) for t, s in live if t.kind == TriggerKind.ON_CHANGE]
        # One trip to a worker thread for every watched file: stat, and hash what changed.
        looked: dict[str, dict[str, str]] = {}
        if watching:
            looked = await asyncio.to_thread(
                lambda: {t.name: self._digests.look(t.spec.on_change) for t, _ in watching}
            )
        waiting = [s for t, s in live if t.kind == TriggerKind.ON_SUCCESS]
        runs = self._runs_since(waiting) if waiting else []
        alerting = [s for t, s in live if t.kind == TriggerKind.ON_ALERT]
        alerts = self._alerts_since(alerting) if alerting else []
        handled: dict[str, float] = {}
        for trigger, state in live:
            if trigger.kind.timed:
                started += self._timed(trigger, state, now)
            elif trigger.kind == TriggerKind.ON_SUCCESS:
                started += self._after_success(trigger, state, runs, handled)
            elif trigger.kind == TriggerKind.ON_ALERT:
                started += self._after_alert(trigger, state, alerts, now, handled)
            else:
                started += self._on_change(trigger, state, now, looked[trigger.name])
        self.store.advance(handled)
        for watch in self.watchers:
            try:
                await watch(now)
            except Exception:  # one watcher's failure must not stop the triggers or the others
                _log.exception("shipdeck: a scheduled check failed; trying again")
        return started

    def _triggers(self, workspace: WorkspaceSpec) -> list[Trigger]:
        """The workspace's triggers, worked out again only when the configuration changed."""
        if self._known is None or self._known[0] is not workspace:
            self._known = (workspace, triggers_of(workspace))
        return self._known[1]

    async def _arm(self, trigger: Trigger, rule: str, now: float) -> None:
        """First sight of a trigger (or of its changed rule, or after a resume): start
        counting from now, firing nothing for what came before."""
        files: dict[str, str] = {}
        cursor = now
        if trigger.kind == TriggerKind.ON_SUCCESS:
            cursor = float(self.store.last_run_id())
        elif trigger.kind == TriggerKind.ON_ALERT:
            cursor = float(self.store.last_alert_id())
        elif trigger.kind == TriggerKind.ON_CHANGE:
            files = await asyncio.to_thread(self._digests.look, trigger.spec.on_change)
        self.store.arm(trigger.name, rule, now, cursor, files)
        self._pending.pop(trigger.name, None)

    # Schedule and every -------------------------------------------------------------------

    def _rule(self, trigger: Trigger) -> TimeRule:
        text = trigger.rule
        cached = self._rules.get(trigger.name)
        if cached is None or cached[0] != text:
            cached = (text, TimeRule(trigger.spec))
            self._rules[trigger.name] = cached
        return cached[1]

    def _timed(self, trigger: Trigger, state: TriggerState, now: float) -> list[Run]:
        rule = self._rule(trigger)
        known = self._next_due.get(trigger.name)
        if known is None or known[0] != state.cursor:
            known = (state.cursor, rule.next_after(state.cursor))
            self._next_due[trigger.name] = known
        if now < known[1]:
            return []
        keep = MAX_CATCHUP if trigger.spec.catchup else 1
        slots = rule.slots(state.cursor, now, keep)
        missed = slots.total - len(slots.kept)
        if missed:
            more = "" if slots.counted_all else "more than "
            _log.warning(
                "shipdeck: %s: %s%d missed run%s not started after downtime (catchup = %s)",
                trigger.name,
                more,
                missed,
                "" if missed == 1 else "s",
                "true: at most 100" if trigger.spec.catchup else "false: at most one",
            )
        started = []
        for position, slot in enumerate(slots.kept):
            due = datetime.fromtimestamp(slot, UTC)
            cause = RunCause(
                kind=trigger.kind,
                schedule=trigger.name,
                due_at=due,
                missed=missed if position == 0 else 0,
            )
            fire = _fire_of(trigger, due.isoformat(), now, due_at=slot, cursor=slot)
            started += self._fire(trigger, fire, cause, self._timed_text(trigger, rule, slot))
        return started

    @staticmethod
    def _timed_text(trigger: Trigger, rule: TimeRule, slot: float) -> str:
        if trigger.kind == TriggerKind.EVERY:
            return f"every {format_duration(trigger.spec.every or 0)}"
        local = datetime.fromtimestamp(slot, rule.zone)
        return f"schedule {local:%H:%M} {local.tzname()}"

    # on_success ---------------------------------------------------------------------------

    def _runs_since(self, states: list[TriggerState]) -> list[tuple[int, str, RunStatus]]:
        self.engine.persister.flush()  # this process's own runs, finished a moment ago
        return self.store.runs_after(int(min(state.cursor for state in states)), RUNS_PER_LOOK)

    def _after_success(
        self,
        trigger: Trigger,
        state: TriggerState,
        runs: list[tuple[int, str, RunStatus]],
        handled_through: dict[str, float],
    ) -> list[Run]:
        """Upstream runs are handled in id order; one still going holds back the later
        ones (so each is handled exactly once, whatever order they finish in). How far
        the trigger got goes into `handled_through`, written for all triggers at once."""
        cursor = int(state.cursor)
        upstream = set(trigger.spec.on_success)
        handled = cursor
        successes: list[tuple[int, str]] = []
        blocked = False
        for run_id, pipeline, status in runs:
            if run_id <= cursor:
                continue
            if pipeline not in upstream:
                if not blocked:
                    handled = run_id
                continue
            if not status.finished:
                blocked = True
                continue
            if blocked:
                continue
            handled = run_id
            if status == RunStatus.SUCCEEDED:
                successes.append((run_id, pipeline))
        if handled > cursor:
            handled_through[trigger.name] = float(handled)
        if not successes:
            return []
        fired = successes if trigger.spec.catchup else successes[-1:]
        missed = len(successes) - len(fired)
        if missed:
            _log.warning(
                "shipdeck: %s: %d upstream successes not acted on (catchup = false: one run"
                " for the newest)",
                trigger.name,
                missed,
            )
        started = []
        for position, (run_id, pipeline) in enumerate(fired):
            cause = RunCause(
                kind=trigger.kind,
                schedule=trigger.name,
                upstream_run=str(run_id),
                upstream_pipeline=pipeline,
                missed=missed if position == 0 else 0,
            )
            fire = _fire_of(trigger, f"run:{run_id}", self.clock(), cursor=float(run_id))
            started += self._fire(
                trigger, fire, cause, f"after {pipeline} {run_label(str(run_id))}"
            )
        return started

    # on_change ----------------------------------------------------------------------------

    def _on_change(
        self, trigger: Trigger, state: TriggerState, now: float, current: dict[str, str]
    ) -> list[Run]:
        recorded = self._recorded.get(trigger.name)
        if recorded is None or recorded[0] != state.generation:
            recorded = (state.generation, self.store.watched(trigger.name))
            self._recorded[trigger.name] = recorded
        changes = diff(recorded[1], current)
        if not changes.changed:
            self._pending.pop(trigger.name, None)
            if changes.removed:
                self.store.settle(trigger.name, state.generation, current)
            return []
        signature = hashlib.sha256(repr(sorted(current.items())).encode()).hexdigest()
        pending = self._pending.get(trigger.name)
        if pending is None or pending.signature != signature:
            pending = _Pending(signature, now)
            self._pending[trigger.name] = pending
        if now - pending.since < trigger.spec.debounce:
            return []
        cause = RunCause(
            kind=trigger.kind,
            schedule=trigger.name,
            files=changes.changed[:MAX_CAUSE_FILES],
            files_total=len(changes.changed),
        )
        slot = f"change:{state.generation + 1}"
        fire = _fire_of(trigger, slot, now, files=current, generation=state.generation)
        first = changes.changed[0]
        more = f" +{len(changes.changed) - 1}" if len(changes.changed) > 1 else ""
        # File names are anyone's: no control character reaches a terminal through them.
        text = f"changed {_clip(_printable(first), 60 - len(more))}{more}"
        self._pending.pop(trigger.name, None)
        return self._fire(trigger, fire, cause, text)

    # on_alert -----------------------------------------------------------------------------

    def _alerts_since(self, states: list[TriggerState]) -> list[tuple[int, str]]:
        return self.store.alerts_after(int(min(state.cursor for state in states)), RUNS_PER_LOOK)

    def _after_alert(
        self,
        trigger: Trigger,
        state: TriggerState,
        alerts: list[tuple[int, str]],
        now: float,
        handled_through: dict[str, float],
    ) -> list[Run]:
        """One run for the newest alert opened since the last look by a watched monitor,
        unless the trigger started one less than `cooldown` ago (then none: the alerts are
        handled, and counted in the log)."""
        cursor = int(state.cursor)
        newer = [(alert_id, monitor) for alert_id, monitor in alerts if alert_id > cursor]
        if not newer:
            return []
        handled_through[trigger.name] = float(newer[-1][0])
        watched = set(trigger.spec.on_alert)
        opened = [(alert_id, monitor) for alert_id, monitor in newer if monitor in watched]
        if not opened:
            return []
        last = self.store.last_fires().get(trigger.name)
        if last is not None and now - last.fired_at.timestamp() < trigger.spec.cooldown:
            _log.info(
                "shipdeck: %s: %d alert%s within the cool-down of %s after run #%d: no run",
                trigger.name,
                len(opened),
                "" if len(opened) == 1 else "s",
                format_duration(trigger.spec.cooldown),
                last.run_id,
            )
            return []
        alert_id, monitor = opened[-1]
        cause = RunCause(
            kind=trigger.kind,
            schedule=trigger.name,
            alert=alert_id,
            monitor=monitor,
            missed=len(opened) - 1,
        )
        fire = _fire_of(trigger, f"alert:{alert_id}", now, cursor=float(alert_id))
        text = f"alert #{alert_id} {monitor}"
        if cause.missed:
            text += f" (+{cause.missed:,} more)"
        return self._fire(trigger, fire, cause, text)

    # Firing -------------------------------------------------------------------------------

    def _fire(self, trigger: Trigger, fire: Fire, cause: RunCause, text: str) -> list[Run]:
        """Start the run and record the fire in one transaction: the run, or none when the
        slot was fired already (by a process before this one). `text` is the run's trigger,
        with the slots it stands for after downtime (an alert's run says how many alerts it
        stands for itself)."""
        if cause.missed and cause.alert is None:
            text += f" (+{cause.missed:,} missed)"
        try:
            if trigger.monitor is not None:
                check = self._check(trigger, fire, cause, text)
                return [] if check is None else [check]
            spec = self.engine.pipeline(trigger.pipeline)
            params = resolve_params(spec, {})
            run = self.engine.start_run(
                trigger.pipeline,
                params,
                trigger=text,
                user=self.user,
                cause=cause,
                claim=lambda db, run_id: ScheduleStore.record(db, fire, run_id),
            )
        except SlotTaken:
            _log.info("shipdeck: %s: %s was fired already", trigger.name, fire.slot)
            return []
        data = ScheduleFiredData(
            schedule=trigger.name, pipeline=trigger.pipeline, trigger=text, cause=cause
        )
        self.engine.feed.publish(EventKind.SCHEDULE_FIRED, data, run_id=run.id)
        _log.info("shipdeck: %s started run %s (%s)", trigger.name, run.label, text)
        return [run]

    def _check(self, trigger: Trigger, fire: Fire, cause: RunCause, text: str) -> Run | None:
        """Start a check of the trigger's monitor, recorded with the fire."""
        assert trigger.monitor is not None
        if self.monitors is None:
            return None
        check = self.monitors.start(
            trigger.monitor,
            trigger=text,
            user=self.user,
            cause=cause,
            claim=lambda db, run_id: ScheduleStore.record(db, fire, run_id),
        )
        run = self.engine.get_run(check.run_id)
        data = ScheduleFiredData(
            schedule=trigger.name, pipeline=trigger.pipeline, trigger=text, cause=cause
        )
        self.engine.feed.publish(EventKind.SCHEDULE_FIRED, data, run_id=run.id)
        _log.info("shipdeck: %s started check #%d (run %s)", trigger.name, check.id, run.label)
        return run


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else "?" for char in text)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else "..." + text[-(width - 3) :]


def _fire_of(
    trigger: Trigger,
    slot: str,
    fired_at: float,
    *,
    due_at: float | None = None,
    cursor: float | None = None,
    files: Mapping[str, str] | None = None,
    generation: int | None = None,
) -> Fire:
    """`trigger`'s fire for `slot` (due at `due_at` for a timed trigger; None: an event's)."""
    return Fire(trigger.name, slot, trigger.pipeline, due_at, fired_at, cursor, files, generation)
