"""Monitors: a check is a run of pipeline `monitor:NAME` with one task, `check` (the monitor's
command, executed like any task: environment without credentials, cwd, timeout, its log kept,
its values reported through `::metric` and `$SHIPDECK_METRICS`). When the run ends, its last
values meet the thresholds: the verdict is recorded with the check, and crossed thresholds
open alerts (back inside closes them).

A check's row is written in its run's transaction, so a check exists exactly when its run
does; one whose process died before judging it is judged by the next look (`recover`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from shipdeck.engine.automation.monitor_store import CheckResult, MonitorStore
from shipdeck.engine.declared import declared
from shipdeck.engine.runs.engine import Engine
from shipdeck.engine.runs.store import Claim
from shipdeck.errors import InvalidInput, NotFound
from shipdeck.model import (
    Alert,
    EventKind,
    MonitorCheck,
    MonitorSpec,
    PipelineSpec,
    RunCause,
    RunStatus,
    TaskSpec,
    TaskStatus,
    ThresholdResult,
    ThresholdSpec,
    Verdict,
    WorkspaceSpec,
)
from shipdeck.model.ids import run_label
from shipdeck.model.monitor import CHECK_TASK, monitor_pipeline
from shipdeck.model.text import text_problem

MAX_VALUES = 1000
"""Values kept per check (a drift check of 300 columns reports 900)."""
MAX_NOTE = 2000

_log = logging.getLogger("shipdeck.monitors")


def check_pipeline(spec: MonitorSpec) -> PipelineSpec:
    """The pipeline a check of `spec` runs: one task, one check at a time."""
    task = TaskSpec(
        name=CHECK_TASK, run=spec.run, env=dict(spec.env), cwd=spec.cwd, timeout=spec.timeout
    )
    return PipelineSpec(
        name=monitor_pipeline(spec.name),
        description=spec.description or f"checks of monitor {spec.name}",
        concurrency=1,
        tasks={CHECK_TASK: task},
    )


def judge(
    spec: MonitorSpec, status: RunStatus, reason: str, values: dict[str, float]
) -> tuple[Verdict, str, list[ThresholdResult]]:
    """The verdict of a check from its run's status and the values it reported."""
    results = [
        ThresholdResult(
            threshold=threshold.text,
            metric=threshold.metric,
            value=values.get(threshold.metric),
            crossed=threshold.metric in values and threshold.crossed(values[threshold.metric]),
        )
        for threshold in spec.thresholds
    ]
    if status != RunStatus.SUCCEEDED:
        return Verdict.FAILED, reason, results
    missing = [result.metric for result in results if result.value is None]
    if missing:
        names = ", ".join(dict.fromkeys(missing))
        return Verdict.FAILED, f"the check reported no value for {names}", results
    if any(result.crossed for result in results):
        return Verdict.ALERTING, "", results
    return Verdict.OK, "", results


class Monitors:
    """Starting and judging checks; listing checks and alerts; acknowledging alerts."""

    def __init__(
        self,
        engine: Engine,
        store: MonitorStore,
        *,
        clock: Callable[[], float],
    ) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self._judging: dict[int, tuple[str, asyncio.Task[CheckResult]]] = {}
        """check id -> (its run, the task waiting for the run to judge it), in this process."""

    @property
    def workspace(self) -> WorkspaceSpec:
        return self.engine.workspace

    def spec(self, name: str) -> MonitorSpec:
        where, none = self.workspace.file.name, "none: declare [monitors.NAME]"
        return declared(self.workspace.monitors, name, "monitor", where, none)

    # Checking ---------------------------------------------------------------------------

    def start(
        self,
        name: str,
        *,
        trigger: str,
        user: str,
        cause: RunCause | None = None,
        claim: Claim | None = None,
    ) -> MonitorCheck:
        """Start a check of monitor `name` (its run recorded with `claim`, as a schedule's
        fire is); it is judged in the background when its run ends."""
        spec = self.spec(name)
        now = self.clock()
        found: list[int] = []

        def begin(db: sqlite3.Connection, run_id: int) -> None:
            if claim is not None:
                claim(db, run_id)
            found.append(MonitorStore.begin(db, name, run_id, trigger, user, now))

        run = self.engine.start_pipeline(
            check_pipeline(spec), {}, jobs=1, trigger=trigger, user=user, cause=cause, claim=begin
        )
        check = MonitorCheck(
            id=found[0],
            monitor=name,
            run_id=run.id,
            trigger=trigger,
            user=user,
            started_at=datetime.fromtimestamp(now, UTC),
        )
        task = asyncio.get_running_loop().create_task(
            self._complete(check), name=f"check-{check.id}"
        )
        self._judging[check.id] = (run.id, task)
        return check

    async def wait(self, check_id: int) -> CheckResult:
        judging = self._judging.get(check_id)
        if judging is not None:
            return await asyncio.shield(judging[1])
        check = self.store.check(check_id)
        if check.verdict == Verdict.RUNNING:
            await self.engine.wait_run(check.run_id)
            return await self._complete(check)
        return CheckResult(check, [], [], fresh=False)

    async def _complete(self, check: MonitorCheck) -> CheckResult:
        try:
            await self.engine.wait_run(check.run_id)
            return self._judge(check)
        finally:
            self._judging.pop(check.id, None)

    def _judge(self, check: MonitorCheck) -> CheckResult:
        try:
            detail = self.engine.run_detail(check.run_id)
        except NotFound:  # deleted (gc) before anyone judged it: a record, no verdict
            gone = check.model_copy(
                update={
                    "verdict": Verdict.FAILED,
                    "reason": f"run {run_label(check.run_id)} is gone",
                }
            )
            result = self.store.finish(gone, (), {}, self.clock())
            self._publish(result)
            return result
        spec = self.workspace.monitors.get(check.monitor)
        task = detail.task(CHECK_TASK)
        reason = f"run {run_label(check.run_id)} {detail.run.status.value}"
        if task is not None and task.status != TaskStatus.SUCCEEDED:
            why = task.reason or task.status.value
            reason = f"check {why} (logs: shipdeck logs {check.run_id} {CHECK_TASK})"
        values = detail.final_metrics()
        thresholds: tuple[ThresholdSpec, ...] = ()
        watches: dict[str, str] = {}
        results: list[ThresholdResult] = []
        if spec is None:  # removed from the file while it ran: a record, no verdict
            verdict, reason, results = Verdict.FAILED, "the monitor is no longer declared", []
        else:
            verdict, reason, results = judge(spec, detail.run.status, reason, values)
            thresholds, watches = spec.thresholds, dict(spec.watches)
        finished = check.model_copy(
            update={
                "verdict": verdict,
                "reason": reason,
                "values": dict(list(values.items())[:MAX_VALUES]),
                "thresholds": results,
            }
        )
        result = self.store.finish(finished, thresholds, watches, self.clock())
        self._publish(result)
        return result

    def _publish(self, result: CheckResult) -> None:
        if not result.fresh:
            return
        feed = self.engine.feed
        feed.publish(EventKind.CHECK_FINISHED, result.check, run_id=result.check.run_id)
        for alert in result.opened:
            feed.publish(EventKind.ALERT_OPENED, alert)
            _log.info(
                "shipdeck: alert #%d opened: %s %s (value %g)",
                alert.id,
                alert.monitor,
                alert.threshold,
                alert.value,
            )
        for alert in result.closed:
            feed.publish(EventKind.ALERT_CLOSED, alert)

    async def settle(self) -> None:
        """Judge every check whose run has ended (for reads: a check whose run just
        finished shows its verdict, not `running`)."""
        for run_id, task in list(self._judging.values()):
            if self.engine.get_run(run_id).status.finished:
                await asyncio.shield(task)
        self.recover()

    def recover(self) -> list[CheckResult]:
        """Judge the checks whose run ended without them being judged (their process died)."""
        judged = []
        for check in self.store.running():
            if check.id in self._judging:
                continue
            try:
                run = self.engine.get_run(check.run_id)  # marks a dead owner's run interrupted
            except NotFound:
                run = None
            if run is not None and not run.status.finished:
                continue
            judged.append(self._judge(check))
        return judged

    # Reading and acknowledging ----------------------------------------------------------

    def history(self, name: str, limit: int) -> list[MonitorCheck]:
        if name not in self.workspace.monitors and not self.store.history(name, 1):
            self.spec(name)  # raises NotFound naming the known monitors
        return self.store.history(name, limit)

    def acknowledge(self, alert_id: int, *, user: str, note: str) -> Alert:
        if (problem := text_problem(note)) is not None:
            raise InvalidInput(f"note refused: {problem}")
        if len(note) > MAX_NOTE:
            raise InvalidInput(f"note refused: at most {MAX_NOTE:,} characters, got {len(note):,}")
        if not note.strip():
            raise InvalidInput("say why in the note (--note TEXT): it is kept with the alert")
        alert = self.store.acknowledge(alert_id, user, note, self.clock())
        self.engine.feed.publish(EventKind.ALERT_ACKNOWLEDGED, alert)
        return alert

    async def close(self) -> None:
        """Wait for the checks being judged here (their runs end as the engine closes)."""
        if self._judging:
            await asyncio.wait([task for _, task in self._judging.values()])
