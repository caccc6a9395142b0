"""Schedules as the operator sees them: listed with their next fire time and last run, and
paused or resumed (recorded, with who). Works in any process; firing is the Scheduler's job.

A trigger is named `PIPELINE.KIND` (`retrain.schedule`, `retrain.on_change`); a monitor's
schedule is `monitor:NAME.KIND` (`monitor:drift.every`). Pausing a pipeline's name (or
`monitor:NAME`) pauses all of its triggers; pausing a trigger's name pauses that one.
Resuming re-arms what it resumes: slots that came due, upstream runs that succeeded and
files that changed while paused do not fire.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shipdeck.engine.automation.schedule_rules import TimeRule
from shipdeck.engine.automation.schedule_store import Pause, ScheduleStore
from shipdeck.errors import NotFound, Refused
from shipdeck.model import (
    PipelineTriggers,
    ScheduleAction,
    ScheduleInfo,
    ScheduleList,
    TriggerKind,
    WorkspaceSpec,
)
from shipdeck.model.monitor import monitor_pipeline
from shipdeck.workspace.durations import format_duration

LOCK_NAME = "scheduler.lock"


@dataclass(frozen=True)
class Trigger:
    """One declared trigger of one pipeline."""

    pipeline: str
    """What it starts: a pipeline, or `monitor:NAME` for a monitor's checks."""
    kind: TriggerKind
    spec: PipelineTriggers
    monitor: str | None = None
    """The monitor whose checks it starts (None: it starts runs of `pipeline`)."""

    name: str = field(init=False)
    rule: str = field(init=False)
    """The declaration in short, and the fingerprint of its state: a changed rule starts
    afresh (nothing that came due under the old one fires)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"{self.pipeline}.{self.kind.value}")
        object.__setattr__(self, "rule", self._rule_text())

    def _rule_text(self) -> str:
        spec = self.spec
        if self.kind == TriggerKind.SCHEDULE:
            return f"{spec.schedule} ({spec.timezone})"
        if self.kind == TriggerKind.EVERY:
            return f"every {format_duration(spec.every or 0)}"
        if self.kind == TriggerKind.ON_SUCCESS:
            return "after " + ", ".join(spec.on_success)
        if self.kind == TriggerKind.ON_ALERT:
            return (
                "alert of "
                + ", ".join(spec.on_alert)
                + f" (cooldown {format_duration(spec.cooldown)})"
            )
        return ", ".join(spec.on_change) + f" (debounce {format_duration(spec.debounce)})"


def triggers_of(workspace: WorkspaceSpec) -> list[Trigger]:
    """Every trigger the workspace declares, by pipeline in file order, then the monitors'
    schedules."""
    return [
        Trigger(name, kind, pipeline.triggers)
        for name, pipeline in workspace.pipelines.items()
        for kind in pipeline.triggers.kinds()
    ] + [
        Trigger(monitor_pipeline(name), kind, monitor.timing, monitor=name)
        for name, monitor in workspace.monitors.items()
        for kind in monitor.timing.kinds()
    ]


def paused_by(trigger: Trigger, pauses: dict[str, Pause]) -> Pause | None:
    return pauses.get(trigger.name) or pauses.get(trigger.pipeline)


def scheduler_pid(state_dir: Path) -> int | None:
    """The pid of the process holding the workspace's scheduler lock, or None."""
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class SchedulerLock:
    """Only the process holding .shipdeck/scheduler.lock fires schedules; others stand by
    and take over when it exits or dies (the kernel drops the lock with the process)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)
            self._fd = None


class ScheduleBook:
    """Listing, pausing and resuming the workspace's schedules and triggers."""

    def __init__(self, store: ScheduleStore, state_dir: Path, clock: Callable[[], float]) -> None:
        self.store = store
        self.state_dir = state_dir
        self.clock = clock

    def listing(self, workspace: WorkspaceSpec) -> ScheduleList:
        now = self.clock()
        pauses = self.store.pauses()
        states = self.store.states()
        last = self.store.last_fires()
        infos: list[ScheduleInfo] = []
        for trigger in triggers_of(workspace):
            pause = paused_by(trigger, pauses)
            state = states.get(trigger.name)
            rule_text = trigger.rule
            next_at = None
            explained = ""
            if trigger.kind.timed:
                rule = TimeRule(trigger.spec)
                explained = rule.explain()
                if pause is None:
                    armed = state is not None and state.rule == rule_text
                    next_at = rule.next_after(state.cursor if armed and state else now)
            fire = last.get(trigger.name)
            infos.append(
                ScheduleInfo(
                    name=trigger.name,
                    pipeline=trigger.pipeline,
                    kind=trigger.kind,
                    rule=rule_text,
                    explained=explained,
                    timezone=(
                        trigger.spec.timezone if trigger.kind == TriggerKind.SCHEDULE else "UTC"
                    ),
                    next_at=None if next_at is None else _utc(next_at),
                    catchup=trigger.spec.catchup,
                    last_run=None if fire is None else str(fire.run_id),
                    last_status=None if fire is None else fire.status,
                    last_fired_at=None if fire is None else fire.fired_at,
                    paused=pause is not None,
                    paused_as=None if pause is None else pause.name,
                    paused_by=None if pause is None else pause.user,
                    paused_at=None if pause is None else pause.at,
                    paused_reason="" if pause is None else pause.reason,
                    monitor=trigger.monitor,
                )
            )
        return ScheduleList(schedules=infos, scheduler_pid=scheduler_pid(self.state_dir))

    def _covered(self, workspace: WorkspaceSpec, name: str) -> list[Trigger]:
        """The triggers `name` (a pipeline or a trigger) stands for; NotFound otherwise."""
        triggers = triggers_of(workspace)
        matched = [t for t in triggers if name in (t.name, t.pipeline)]
        if matched:
            return matched
        known = sorted({t.pipeline for t in triggers} | {t.name for t in triggers})
        listed = (
            ", ".join(known)
            if known
            else "none: no pipeline or monitor declares a schedule or trigger"
        )
        raise NotFound(f"no schedule or trigger {name!r} (known: {listed})")

    def pause(
        self, workspace: WorkspaceSpec, name: str, *, user: str, reason: str = ""
    ) -> ScheduleAction:
        covered = self._covered(workspace, name)
        pauses = self.store.pauses()
        held = [paused_by(trigger, pauses) for trigger in covered]
        if name in pauses or all(held):
            pause = pauses.get(name) or held[0]
            assert pause is not None
            through = "" if pause.name == name else f" through {pause.name}"
            raise Refused(
                f"{name} is paused already{through}"
                f" (by {pause.user} at {pause.at:%Y-%m-%d %H:%M} UTC)"
            )
        action = self.store.pause(name, user, self.clock(), reason)
        if action is None:
            raise Refused(f"{name} is paused already")
        return action

    def resume(
        self, workspace: WorkspaceSpec, name: str, *, user: str, reason: str = ""
    ) -> ScheduleAction:
        covered = self._covered(workspace, name)
        action = self.store.resume(name, user, self.clock(), reason, [t.name for t in covered])
        if action is None:
            pauses = self.store.pauses()
            through = next((p for t in covered if (p := paused_by(t, pauses))), None)
            if through is not None:
                raise Refused(f"{name} is not paused itself; resume {through.name} instead")
            raise Refused(f"{name} is not paused")
        return action


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)
