"""`shipdeck alerts [--json]`, `shipdeck alerts ack ID --note TEXT`."""

from __future__ import annotations

import argparse

from shipdeck.cli.arguments import Subcommands, add_command, add_json_option, positive_int
from shipdeck.cli.context import CliContext
from shipdeck.cli.monitors import monitor_runner
from shipdeck.cli.output import dump_json, listed_as_json_or_none, table, timestamp
from shipdeck.engine.automation.monitors import MAX_NOTE
from shipdeck.errors import InvalidInput
from shipdeck.formatting import format_number
from shipdeck.model import Alert


def register(sub: Subcommands) -> None:
    p = add_command(sub, "alerts", list_command, needs_file=False)
    p.add_argument("--open", action="store_true", help="only the open ones")
    p.add_argument("--monitor", metavar="NAME", help="only this monitor's")
    p.add_argument("--limit", type=positive_int, default=50, help="at most this many (default 50)")
    add_json_option(p, "the list as JSON")
    actions = p.add_subparsers(dest="alerts_command", metavar="ACTION")
    ack = add_command(actions, "ack", ack_command, needs_file=False)
    ack.add_argument("id", metavar="ID", help="the alert's number (3 or #3)")
    ack.add_argument("--note", required=True, help="what is being done about it")
    add_json_option(ack, "the alert as JSON")


async def list_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """alerts of monitors, open ones first; acknowledge one

    List the alerts monitors opened (open ones first), or acknowledge one with a note (recorded
    with who and when). See docs/monitoring.md.
    """
    runner = await monitor_runner(ctx)
    listed = await runner.alerts(
        open_only=args.open, monitor=args.monitor, limit=max(1, min(args.limit, 1000))
    )
    none = "no open alerts" if args.open else "no alerts"
    if listed_as_json_or_none(listed, ctx.out, as_json=args.json, none=none):
        return 0
    rows = [
        [
            f"#{alert.id}",
            alert.monitor,
            alert.threshold,
            _value(alert),
            timestamp(alert.since),
            _state(alert),
        ]
        for alert in listed
    ]
    ctx.print(table(["ALERT", "MONITOR", "THRESHOLD", "VALUE", "SINCE", "STATE"], rows))
    return 0


def _value(alert: Alert) -> str:
    if alert.closed_at is not None and alert.closed_value is not None:
        return f"{format_number(alert.value)} -> {format_number(alert.closed_value)}"
    if alert.last_value != alert.value:
        return f"{format_number(alert.value)} (now {format_number(alert.last_value)})"
    return format_number(alert.value)


def _state(alert: Alert) -> str:
    state = "open" if alert.closed_at is None else f"closed {timestamp(alert.closed_at)}"
    if alert.acked_by is not None:
        state += f", acked by {alert.acked_by}: {alert.ack_note}"
    return state


async def ack_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """acknowledge an alert (recorded, with who)"""
    text = args.id.strip().removeprefix("#")
    if not text.isdigit() or not 0 < int(text) < 2**53:
        raise InvalidInput(f"alert {args.id!r}: expected an alert number like 3 or #3")
    check_note(args.note)
    alert = await (await monitor_runner(ctx)).ack_alert(int(text), note=args.note)
    if args.json:
        dump_json(alert, ctx.out)
    else:
        what = f"alert #{alert.id} ({alert.monitor} {alert.threshold})"
        ctx.print(f"{what}: acknowledged by {alert.acked_by}")
    return 0


def check_note(note: str) -> None:
    """Refuse a blank or too long --note here, in the option's words, before any runner is
    asked (a daemon's HTTP API would answer in its validator's)."""
    if not note.strip():
        raise InvalidInput(
            "--note: say why (what is being done about it): it is kept with the alert"
        )
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"--note: at most {MAX_NOTE:,} characters, got {len(note):,}")
