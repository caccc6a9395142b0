"""`shipdeck monitors [--json]`, `shipdeck monitors check NAME`, `shipdeck monitors history
NAME [--json]`."""

from __future__ import annotations

import argparse
import json

from shipdeck.cli.arguments import Subcommands, add_command, add_json_option, positive_int
from shipdeck.cli.context import CliContext
from shipdeck.cli.output import dump_json, listed_as_json_or_none, table, timestamp
from shipdeck.formatting import format_number
from shipdeck.model import LivePerformance, MonitorCheck, MonitorInfo, Verdict
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label
from shipdeck.runners.protocol import Runner

VERDICT_TEXT = {
    Verdict.OK: "ok",
    Verdict.ALERTING: "ALERTING",
    Verdict.FAILED: "check failed",
    Verdict.RUNNING: "running",
}


def register(sub: Subcommands) -> None:
    p = add_command(sub, "monitors", list_command, needs_file=False)
    add_json_option(p, "the list as JSON")
    actions = p.add_subparsers(dest="monitors_command", metavar="ACTION")
    check = add_command(actions, "check", check_command, needs_file=False)
    check.add_argument("name", metavar="NAME")
    add_json_option(check, "the check as JSON")
    history = add_command(actions, "history", history_command, needs_file=False)
    history.add_argument("name", metavar="NAME")
    history.add_argument(
        "--limit", type=positive_int, default=20, help="at most this many (default 20)"
    )
    add_json_option(history, "the checks as JSON")


async def monitor_runner(ctx: CliContext) -> Runner:
    return await ctx.runner_that(Capability.MONITORS)


async def list_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """monitors: current values, thresholds, state; check one now; its history

    List the workspace's monitors with their last values, thresholds, state and open alerts; run
    a check now; show a monitor's checks. See docs/monitoring.md.
    """
    from shipdeck.runners.live_performance import load_live_performance

    runner = await monitor_runner(ctx)
    listed = await runner.monitors()
    live = await load_live_performance(runner)
    ctx.warn_if_file_broken()
    if args.json:
        data = [
            {
                **info.model_dump(mode="json"),
                "live": [p.model_dump(mode="json") for p in live if p.monitor == info.name],
            }
            for info in listed
        ]
        ctx.out.write(json.dumps(data, indent=2) + "\n")
        return 0
    if not listed:
        ctx.print("no monitors: declare [monitors.NAME] in shipdeck.toml (see docs/monitoring.md)")
        return 0
    rows = [
        [
            info.name,
            _state(info),
            _values(info.last_check),
            ", ".join(info.thresholds) or "-",
            f"{info.open_alerts} open" if info.open_alerts else "-",
            _last(info.last_check),
            _next(info),
        ]
        for info in listed
    ]
    headers = ["MONITOR", "STATE", "VALUES", "ALERTS WHEN", "ALERTS", "LAST CHECK", "NEXT"]
    ctx.print(table(headers, rows))
    if live:
        ctx.print()
        ctx.print("\n".join(describe_live(p) for p in live))
    return 0


def describe_live(live: LivePerformance) -> str:
    """`churn v1 in churn/prod (monitor feedback): auc 0.79 vs 0.85 trained, -0.06 worse`."""
    parts = []
    for metric in live.metrics:
        text = f"{metric.key} {format_number(metric.live)}"
        if metric.trained is not None and metric.delta is not None:
            word = {True: "better", False: "worse", None: "no better or worse"}[metric.better]
            text += f" vs {format_number(metric.trained)} trained, {metric.delta:+.4g} {word}"
        parts.append(text)
    where = f"{live.model} {live.version_label} in {live.service}/{live.env}"
    stale = f" (checked before {live.version_label} was deployed)" if live.before_deploy else ""
    return f"live: {where} (monitor {live.monitor}): {'; '.join(parts)}{stale}"


def _state(info: MonitorInfo) -> str:
    text = "never checked" if info.state is None else VERDICT_TEXT[info.state]
    return text + (" (checking)" if info.running else "")


def _values(check: MonitorCheck | None) -> str:
    if check is None:
        return "-"
    shown = [
        f"{t.metric}={format_number(t.value)}" for t in check.thresholds if t.value is not None
    ]
    if not shown:
        shown = [f"{key}={format_number(value)}" for key, value in list(check.values.items())[:3]]
    return ", ".join(dict.fromkeys(shown)) or "-"


def _last(check: MonitorCheck | None) -> str:
    if check is None:
        return "-"
    return f"{timestamp(check.finished_at or check.started_at)} (run {run_label(check.run_id)})"


def _next(info: MonitorInfo) -> str:
    if info.paused:
        return "paused"
    if info.next_at is None:
        return "on request" if info.rule == "manual" else "-"
    return timestamp(info.next_at)


async def check_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """run a check now: exit 0 within thresholds, 1 when it alerts or fails"""
    check = await (await monitor_runner(ctx)).check_monitor(args.name)
    if args.json:
        dump_json(check, ctx.out)
    else:
        ctx.print("\n".join(describe_check(check)))
    return 0 if check.verdict == Verdict.OK else 1


def describe_check(check: MonitorCheck) -> list[str]:
    lines = [
        f"{check.monitor}: {VERDICT_TEXT[check.verdict]} (check #{check.id}, run #{check.run_id})"
    ]
    if check.reason:
        lines.append(f"  {check.reason}")
    for result in check.thresholds:
        value = "no value" if result.value is None else format_number(result.value)
        mark = "crossed" if result.crossed else "inside"
        lines.append(f"  {result.threshold}: {value} ({mark})")
    if not check.thresholds and check.values:
        lines += [f"  {key} = {format_number(value)}" for key, value in check.values.items()]
    return lines


async def history_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """a monitor's checks, newest first"""
    checks = await (await monitor_runner(ctx)).monitor_history(args.name, limit=max(1, args.limit))
    none = f"{args.name}: no checks yet (shipdeck monitors check {args.name})"
    if listed_as_json_or_none(checks, ctx.out, as_json=args.json, none=none):
        return 0
    rows = [
        [
            f"#{check.id}",
            timestamp(check.finished_at or check.started_at),
            VERDICT_TEXT[check.verdict],
            _values(check),
            run_label(check.run_id),
            check.trigger,
        ]
        for check in checks
    ]
    ctx.print(table(["CHECK", "WHEN", "VERDICT", "VALUES", "RUN", "STARTED BY"], rows))
    return 0
