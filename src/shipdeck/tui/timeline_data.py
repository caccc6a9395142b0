"""The on-call timeline: runs, deploy actions, alias moves and health, from every runner,
as one time-ordered list of items with where each one leads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shipdeck.model import AliasMove, EnvironmentState, HistoryEntry, Outcome, Run
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label, version_label
from shipdeck.runners.protocol import Runner
from shipdeck.tui.format import clip_name

TIMELINE_RUNS = 200
TIMELINE_ACTIONS = 100
DEPLOY_PIPELINE_PREFIX = "deploy:"
"""Deploy runs are shown through their action (deploy, promote, rollback), not twice."""


class ItemKind(StrEnum):
    RUN = "run"
    DEPLOY = "deploy"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    ALIAS = "alias"
    HEALTH = "health"


WINDOWS: list[tuple[str, timedelta | None]] = [
    ("1h", timedelta(hours=1)),
    ("6h", timedelta(hours=6)),
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
    ("all", None),
]


@dataclass(frozen=True)
class Target:
    """Where enter leads: a run (`ref` = run id), an environment, or a model."""

    kind: str
    run_id: str | None = None
    service: str = ""
    env: str = ""
    model: str = ""


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
        items.append(
            TimelineItem(
                run.started_at or run.created_at,
                ItemKind.RUN,
                index,
                "running" if not run.status.finished else "started",
                run.pipeline,
                f"{run.label} {clip_name(run.pipeline)} started{origin}",
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
    if entry.automatic:
        text = f"auto {text}"
    if entry.outcome != Outcome.SUCCEEDED:
        text += f": {entry.outcome.value}"
        if entry.detail:
            text += f" ({entry.detail})"
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
    return sort_items(items)


def sort_items(items: list[TimelineItem]) -> list[TimelineItem]:
    return sorted(items, key=lambda i: (i.at, i.order), reverse=True)


def matches(item: TimelineItem, words: list[str], runner_name: str) -> bool:
    """Every word must be found in the item's kind, subject, runner, status or text."""
    haystack = f"{item.kind} {item.subject} {runner_name} {item.status} {item.text}".lower()
    return all(word in haystack for word in words)


def in_window(item: TimelineItem, now: datetime, window: timedelta | None) -> bool:
    return window is None or item.at >= now - window
