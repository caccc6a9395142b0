"""The on-call timeline: runs, schedule fires, alerts, deploy actions (automatic ones with
their reason), alias moves and health, from every runner, as one time-ordered list of items
with where each one leads. Each runner contributes what its capabilities say it has."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shipdeck.formatting import format_number
from shipdeck.model import (
    Alert,
    AliasMove,
    AutoCause,
    AutoKind,
    EnvironmentState,
    HistoryEntry,
    Outcome,
    Run,
)
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label, version_label
from shipdeck.runners.protocol import Runner
from shipdeck.tui.format import clip_name

TIMELINE_RUNS = 200
TIMELINE_ACTIONS = 100
TIMELINE_ALERTS = 200
DEPLOY_PIPELINE_PREFIX = "deploy:"
"""Deploy runs are shown through their action (deploy, promote, rollback), not twice."""


class ItemKind(StrEnum):
    RUN = "run"
    DEPLOY = "deploy"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    ALIAS = "alias"
    HEALTH = "health"
    FIRE = "fire"
    """A schedule or trigger started a run: the run's start, with what fired it."""
    ALERT = "alert"
    """An alert opened, acknowledged or closed."""


WINDOWS: list[tuple[str, timedelta | None]] = [
    ("1h", timedelta(hours=1)),
    ("6h", timedelta(hours=6)),
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
    ("all", None),
]


@dataclass(frozen=True)
class Target:
    """Where enter leads: a run (`ref` = run id), an environment, a model or a monitor."""

    kind: str
    run_id: str | None = None
    service: str = ""
    env: str = ""
    model: str = ""
    monitor: str = ""


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: ItemKind
    runner: int
    status: str
    """The colour word: succeeded, failed, running, refused, ..."""
    subject: str
    """Service, pipeline or model the item is about (filterable)."""
    text: str
    who: str = ""
    target: Target | None = None
    order: int = 0
    """Tie-breaker within one runner: grows with time (a ledger id, a run's creation)."""

    @property
    def key(self) -> str:
        return f"{self.runner}:{self.kind}:{self.order}:{self.status}:{self.text}"


def run_items(index: int, runs: list[Run]) -> list[TimelineItem]:
    items = []
    for run in runs:
        if run.pipeline.startswith(DEPLOY_PIPELINE_PREFIX):
            continue
        target = Target("run", run_id=run.id)
        origin = f" rerun of {run_label(run.parent_id)}" if run.parent_id else f" ({run.trigger})"
        started = f"{run.label} {clip_name(run.pipeline)} started{origin}"
        if run.cause is not None:
            # Fired by a schedule or trigger: which one, and what it reacted to.
            started = f"{run.cause.schedule} fired {run.label} {clip_name(run.pipeline)}: "
            started += run.trigger
        items.append(
            TimelineItem(
                run.started_at or run.created_at,
                ItemKind.RUN if run.cause is None else ItemKind.FIRE,
                index,
                "running" if not run.status.finished else "started",
                run.pipeline,
                started,
                run.user,
                target,
                order=_created(run) * 2,
            )
        )
        if run.status.finished and run.finished_at is not None:
            items.append(
                TimelineItem(
                    run.finished_at,
                    ItemKind.RUN,
                    index,
                    run.status.value,
                    run.pipeline,
                    f"{run.label} {clip_name(run.pipeline)} {run.status.value}"
                    f" ({run.tasks_done}/{run.tasks_total} tasks)",
                    run.user,
                    target,
                    order=_created(run) * 2 + 1,
                )
            )
    return items


def _created(run: Run) -> int:
    """When the run was created, in microseconds: its ids need not grow with time."""
    return round(run.created_at.timestamp() * 1_000_000)


def action_item(index: int, entry: HistoryEntry) -> TimelineItem:
    moved = f"{entry.from_revision or '∅'} → {entry.to_revision}"
    text = f"{entry.action.value} {clip_name(entry.service)} {entry.env} {moved}"
    if entry.cause is not None:
        text = f"auto {text}"
    if entry.outcome != Outcome.SUCCEEDED:
        text += f": {entry.outcome.value}"
        if entry.detail:
            text += f" ({entry.detail})"
    if entry.cause is not None:
        text += f", because {short_cause(entry.cause)}"
    return TimelineItem(
        entry.finished_at or entry.at,
        ItemKind(entry.action.value),
        index,
        entry.outcome.value,
        entry.service,
        text,
        entry.user,
        Target("env", run_id=entry.run_id, service=entry.service, env=entry.env),
        order=entry.id,
    )


def short_cause(cause: AutoCause) -> str:
    """Why the runner acted, short enough for a timeline row: `alert #7`, `health failed 3
    times`, `policy held for v5 (run #12)`."""
    if cause.alert_id is not None:
        return f"alert #{cause.alert_id}"
    if cause.kind == AutoKind.HEALTH and cause.failures is not None:
        return f"health failed {cause.failures} times"
    if cause.kind == AutoKind.POLICY:
        version = f" for {version_label(cause.version)}" if cause.version is not None else ""
        run = f" ({run_label(cause.run_id)})" if cause.run_id is not None else ""
        return f"policy held{version}{run}"
    return cause.text


def alert_items(index: int, alert: Alert) -> list[TimelineItem]:
    """An alert's opening, its acknowledgement and its closing: each when it happened."""
    target = Target("monitor", monitor=alert.monitor)
    condition = alert.threshold.removeprefix(alert.metric).strip()
    name = f"alert #{alert.id} {clip_name(alert.monitor)}"
    order = alert.id * 4
    items = [
        TimelineItem(
            alert.since,
            ItemKind.ALERT,
            index,
            "alerting",
            alert.monitor,
            f"{name} opened: {alert.metric} {format_number(alert.value)}, alerts {condition}",
            "",
            target,
            order=order,
        )
    ]
    if alert.acked_at is not None:
        note = f": {alert.ack_note}" if alert.ack_note else ""
        items.append(
            TimelineItem(
                alert.acked_at,
                ItemKind.ALERT,
                index,
                "acked",
                alert.monitor,
                f"{name} acknowledged by {(alert.acked_by or '?').split('@', 1)[0]}{note}",
                alert.acked_by or "",
                target,
                order=order + 1,
            )
        )
    if alert.closed_at is not None:
        value = "" if alert.closed_value is None else f" {format_number(alert.closed_value)}"
        why = alert.closed_reason or f"back inside {condition}"
        items.append(
            TimelineItem(
                alert.closed_at,
                ItemKind.ALERT,
                index,
                "closed",
                alert.monitor,
                f"{name} closed: {alert.metric}{value}, {why}",
                "",
                target,
                order=order + 2,
            )
        )
    return items


def alias_item(index: int, move: AliasMove) -> TimelineItem:
    before, after = (
        version_label(version) if version is not None else "∅"
        for version in (move.from_version, move.to_version)
    )
    return TimelineItem(
        move.at,
        ItemKind.ALIAS,
        index,
        "succeeded",
        move.model,
        f"{clip_name(move.model)}@{move.alias} {before} → {after}",
        move.user,
        Target("model", model=move.model),
        order=move.id,
    )


def health_item(index: int, state: EnvironmentState) -> TimelineItem | None:
    if state.health is None or state.health_at is None:
        return None
    word = "ok" if state.health == "passed" else "failing"
    service = clip_name(state.service)
    return TimelineItem(
        state.health_at,
        ItemKind.HEALTH,
        index,
        "succeeded" if state.health == "passed" else "failed",
        state.service,
        f"health {service} {state.env} {state.health_revision or ''} {word}".replace("  ", " "),
        "",
        Target("env", service=state.service, env=state.env),
    )


async def load_timeline(index: int, runner: Runner) -> list[TimelineItem]:
    """One runner's items, newest first."""
    can = (await runner.capabilities()).can
    runs = await runner.runs(limit=TIMELINE_RUNS) if Capability.PIPELINES in can else []
    items = run_items(index, runs)
    if Capability.ALIASES in can:
        items += [alias_item(index, m) for m in await runner.alias_moves()]
    if Capability.DEPLOYMENTS in can:
        services, states = await asyncio.gather(runner.services(), runner.deployments())
        histories = await asyncio.gather(
            *(runner.history(s.name, limit=TIMELINE_ACTIONS) for s in services)
        )
        items += [action_item(index, e) for history in histories for e in history]
        items += [i for s in states if (i := health_item(index, s)) is not None]
    if Capability.MONITORS in can:
        alerts = await runner.alerts(limit=TIMELINE_ALERTS)
        items += [item for alert in alerts for item in alert_items(index, alert)]
    return sort_items(items)


def sort_items(items: list[TimelineItem]) -> list[TimelineItem]:
    return sorted(items, key=lambda i: (i.at, i.order), reverse=True)


def matches(item: TimelineItem, words: list[str], runner_name: str) -> bool:
    """Every word must be found in the item's kind, subject, runner, status or text."""
    haystack = f"{item.kind} {item.subject} {runner_name} {item.status} {item.text}".lower()
    return all(word in haystack for word in words)


def in_window(item: TimelineItem, now: datetime, window: timedelta | None) -> bool:
    return window is None or item.at >= now - window
