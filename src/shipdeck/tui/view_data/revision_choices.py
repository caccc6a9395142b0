"""The revisions a deploy or roll back dialog offers, newest first, read through the Runner
contract: rows of text, no widgets.

Deploy: for a pipeline service its successful builds (the newest first: what `latest` means),
for a model service its versions, each with its aliases and key metric, then the aliases on
their own so the operator can deploy "the champion" without knowing its number. Roll back: the
revisions the environment held before, each with who deployed it and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shipdeck.errors import NotFound
from shipdeck.formatting import format_age, format_metric
from shipdeck.model import HistoryEntry, Outcome, RunStatus, ServiceSpec
from shipdeck.runners.protocol import Runner
from shipdeck.tui.format import clip, format_param
from shipdeck.tui.view_data.deployments import key_metric

BUILD_SCAN = 30
"""How many of a pipeline's newest runs are looked through for successful builds."""
HISTORY_SCAN = 100

DEPLOY_COLUMNS = [("revision", "revision"), ("what", "what"), ("at", "made"), ("note", "")]
ROLLBACK_COLUMNS = [("revision", "revision"), ("at", "deployed"), ("by", "by"), ("how", "how")]


@dataclass(frozen=True)
class Choice:
    ref: str
    """What the plan is asked for: `r12`, `v3`, `champion`."""
    cells: list[str]


async def deploy_choices(
    runner: Runner, deployer: Runner, spec: ServiceSpec, env: str, now: datetime
) -> list[Choice]:
    """What can be deployed to `env` (the revision it holds now is marked `here now`)."""
    current = await _held(deployer, spec.name, env)
    if spec.model:
        return await _model_choices(deployer, spec, current, now)
    return await _build_choices(runner, spec.pipeline or "", current, now)


async def _build_choices(
    runner: Runner, pipeline: str, current: str | None, now: datetime
) -> list[Choice]:
    runs = await runner.runs(pipeline=pipeline, limit=BUILD_SCAN)
    built = [run for run in runs if run.status == RunStatus.SUCCEEDED]
    choices = []
    for position, run in enumerate(built):
        revision = f"r{run.id}"
        what = "latest build" if position == 0 else f"build {run.label}"
        if revision == current:
            what += ", here now"
        params = " ".join(f"{k}={format_param(v)}" for k, v in run.params.items())
        at = run.finished_at or run.created_at
        choices.append(Choice(revision, [revision, what, format_age(at, now), clip(params, 30)]))
    return choices


async def _model_choices(
    deployer: Runner, spec: ServiceSpec, current: str | None, now: datetime
) -> list[Choice]:
    try:
        versions = await deployer.model_versions(spec.model or "")
    except NotFound:  # nothing registered yet
        return []
    metric = key_metric(spec, versions)
    choices = []
    aliases: list[tuple[str, str]] = []
    for position, version in enumerate(versions):
        revision = version.revision
        what = "latest version" if position == 0 else "version"
        if revision == current:
            what += ", here now"
        note = " ".join("@" + alias for alias in version.aliases)
        if metric and metric in version.metrics:
            note += f" {metric} {format_metric(version.metrics[metric])}"
        at = format_age(version.created_at, now)
        choices.append(Choice(revision, [revision, what, at, clip(note.strip(), 30)]))
        aliases.extend((alias, revision) for alias in version.aliases)
    for alias, revision in sorted(aliases):
        choices.append(Choice(alias, [f"@{alias}", f"alias → {revision}", "", ""]))
    return choices


async def rollback_choices(deployer: Runner, service: str, env: str, now: datetime) -> list[Choice]:
    """The revisions `env` held before the one it holds now, newest first."""
    history = await deployer.history(service, env, limit=HISTORY_SCAN)
    current = await _held(deployer, service, env)
    seen: dict[str, HistoryEntry] = {}
    for entry in history:
        if entry.outcome == Outcome.SUCCEEDED and entry.to_revision != current:
            seen.setdefault(entry.to_revision, entry)
    return [
        Choice(revision, [revision, format_age(entry.at, now), entry.user, entry.action.value])
        for revision, entry in seen.items()
    ]


async def _held(deployer: Runner, service: str, env: str) -> str | None:
    states = await deployer.deployments()
    return next((s.revision for s in states if s.service == service and s.env == env), None)
