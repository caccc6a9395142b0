"""`shipdeck schedules [--json]`, `shipdeck schedules pause|resume NAME`."""

from __future__ import annotations

import argparse
import zoneinfo
from datetime import UTC, datetime

from shipdeck.cli.arguments import Subcommands, add_command, add_json_option
from shipdeck.cli.context import CliContext
from shipdeck.cli.output import dump_json, status_text, table
from shipdeck.model import RunCause, ScheduleInfo, ScheduleList
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label
from shipdeck.runners.protocol import Runner

NOT_FIRING = (
    "no runner is firing them now: schedules fire while the workspace's runner runs"
    " (the daemon any shipdeck command starts, or shipdeck serve)"
)


def register(sub: Subcommands) -> None:
    p = add_command(sub, "schedules", list_command, needs_file=False)
    add_json_option(p, "the list as JSON")
    actions = p.add_subparsers(dest="schedules_command", metavar="ACTION")
    for action, text in (("pause", "stop it firing"), ("resume", "let it fire again from now")):
        s = add_command(
            actions, action, change_command, needs_file=False, help=f"{text} (recorded, with who)"
        )
        s.add_argument("name", metavar="NAME", help="PIPELINE.KIND or PIPELINE")
        s.add_argument("--reason", default="", help="why, for the record")
        add_json_option(s, "the recorded action as JSON")
        s.set_defaults(action=action)


async def _runner(ctx: CliContext) -> Runner:
    return await ctx.runner_that(Capability.SCHEDULES)


async def list_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """schedules and triggers: next fire time, last run, paused state; pause, resume

    List every schedule and trigger of the workspace's pipelines, or pause and resume one
    (PIPELINE.KIND, e.g. retrain.schedule) or all of a pipeline's (PIPELINE). See
    docs/monitoring.md.
    """
    runner = await _runner(ctx)
    listed = await runner.schedules()
    ctx.warn_if_file_broken()
    if args.json:
        dump_json(listed, ctx.out)
        return 0
    ctx.print(render(listed, datetime.now(UTC), ctx))
    return 0


def render(listed: ScheduleList, now: datetime, ctx: CliContext) -> str:
    if not listed.schedules:
        return (
            "no schedules or triggers: add schedule, every, on_success, on_change or on_alert to a"
            " pipeline, or every or schedule to a monitor"
        )
    rows = [
        [
            item.name,
            item.rule,
            _next(item, now),
            _last(item, ctx),
            _state(item),
        ]
        for item in listed.schedules
    ]
    lines = [table(["NAME", "WHEN", "NEXT", "LAST RUN", "STATE"], rows), ""]
    if listed.scheduler_pid is None:
        lines.append(NOT_FIRING)
    else:
        lines.append(f"fired by the runner in pid {listed.scheduler_pid}")
    return "\n".join(lines)


def _next(item: ScheduleInfo, now: datetime) -> str:
    if item.next_at is None:
        return "-" if item.paused or item.kind.timed else "on event"
    try:
        zone = zoneinfo.ZoneInfo(item.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    shown = item.next_at.astimezone(zone)
    text = f"{shown:%Y-%m-%d %H:%M} {shown.tzname()}"
    return f"due since {text}" if item.next_at < now else text


def _last(item: ScheduleInfo, ctx: CliContext) -> str:
    if item.last_run is None:
        return "-"
    status = status_text(item.last_status.value, ctx.out) if item.last_status else ""
    return f"{run_label(item.last_run)} {status}".rstrip()


def _state(item: ScheduleInfo) -> str:
    if not item.paused:
        return "active"
    since = f" {item.paused_at:%Y-%m-%d %H:%M} UTC" if item.paused_at else ""
    through = f" (as {item.paused_as})" if item.paused_as != item.name else ""
    reason = f": {item.paused_reason}" if item.paused_reason else ""
    return f"paused by {item.paused_by}{since}{through}{reason}"


async def change_command(args: argparse.Namespace, ctx: CliContext) -> int:
    runner = await _runner(ctx)
    if args.action == "pause":
        action = await runner.pause_schedule(args.name, reason=args.reason)
    else:
        action = await runner.resume_schedule(args.name, reason=args.reason)
    if args.json:
        dump_json(action, ctx.out)
    else:
        done = "paused" if action.action == "pause" else "resumed"
        ctx.print(f"{action.name}: {done} by {action.user}")
    return 0


def describe_cause(cause: RunCause) -> list[str]:
    """What started an automatic run, for `shipdeck show`."""
    lines = [f"started by {cause.schedule}"]
    if cause.due_at is not None:
        lines[0] += f" for the slot of {cause.due_at:%Y-%m-%d %H:%M} UTC"
    if cause.upstream_run is not None:
        lines[0] += (
            f" after run {run_label(cause.upstream_run)} of {cause.upstream_pipeline} succeeded"
        )
    if cause.alert is not None:
        lines[0] += f" when monitor {cause.monitor} opened alert #{cause.alert}"
    if cause.missed:
        lines.append(
            f"after downtime: it stands for {cause.missed:,} earlier missed"
            f" {'slot' if cause.due_at else 'success'}{'' if cause.missed == 1 else 's'}"
            " too (catchup = false)"
            if cause.alert is None
            else f"it stands for {cause.missed:,} earlier alert{'' if cause.missed == 1 else 's'}"
            " opened since the last look too"
        )
    if cause.files:
        more = cause.files_total - len(cause.files)
        names = ", ".join("".join(c if c.isprintable() else "?" for c in f) for f in cause.files)
        shown = names + (f" and {more:,} more" if more else "")
        lines.append(f"new or changed files: {shown}")
    return lines
