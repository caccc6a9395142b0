"""`shipdeck gc`: delete old runs, their logs and unreferenced artifacts from `.shipdeck/`."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3

from shipdeck.cli.arguments import Subcommands, add_command, add_json_option
from shipdeck.cli.context import CliContext
from shipdeck.cli.output import dump_json
from shipdeck.errors import InvalidInput, Refused, Unavailable
from shipdeck.model import RetentionSpec
from shipdeck.model.ids import run_label

SHOWN_PROTECTED = 10


def register(sub: Subcommands) -> None:
    p = add_command(sub, "gc", gc_command)
    p.add_argument(
        "--keep", metavar="N", help="keep the newest N runs of each pipeline (0 or more)"
    )
    p.add_argument(
        "--older-than",
        metavar="DURATION",
        help="delete only runs created longer ago than this (like 30d, 12h)",
    )
    p.add_argument("--dry-run", action="store_true", help="say what would go; delete nothing")
    add_json_option(p, "print the report as JSON")


def limits_from(args: argparse.Namespace, ctx: CliContext) -> RetentionSpec:
    """--keep/--older-than as given, else the workspace's [retention]."""
    if args.keep is None and args.older_than is None:
        retention = ctx.workspace().retention
        if retention is None:
            raise InvalidInput(
                "say which runs to keep: --keep N and/or --older-than DURATION"
                " (or set [retention] in shipdeck.toml)"
            )
        return retention
    keep = None
    if args.keep is not None:
        if not args.keep.isdigit():
            raise InvalidInput(f"--keep takes a number of runs (0 or more), got {args.keep!r}")
        keep = int(args.keep)
    older_than = None
    if args.older_than is not None:
        from shipdeck.workspace import parse_duration

        try:
            older_than = parse_duration(args.older_than)
        except ValueError as error:
            raise InvalidInput(f"--older-than: {error}") from None
    return RetentionSpec(keep=keep, older_than=older_than)


async def gc_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """delete old runs, their logs and unused artifacts

    Delete finished runs beyond the limits, with their logs and the stored artifacts nothing
    refers to any more. Runs in progress, runs of revisions deployed now or that a rollback could
    return to, and runs that registered a model version are always kept. Without --keep or
    --older-than, the workspace's [retention] applies.
    """
    if ctx.runner_spec:
        raise InvalidInput(
            "gc works on this machine's workspace (.shipdeck/), not through a runner;"
            " run it on the runner's host"
        )
    if getattr(args, "tui_read_only", False) and not args.dry_run:
        # gc deletes from .shipdeck/ itself, past every runner's ReadOnlyRunner.
        raise Refused("gc refused: read-only mode (--read-only)")
    limits = limits_from(args, ctx)
    from shipdeck.engine.automation.retention import collect_garbage

    # Where the state is, whatever the file says: --keep/--older-than work on a broken file.
    state_dir = ctx.workspace_place().state_dir
    try:
        report = await asyncio.to_thread(collect_garbage, state_dir, limits, dry_run=args.dry_run)
    except RuntimeError as error:  # a history this shipdeck cannot judge
        raise InvalidInput(f"cannot clean {state_dir}: {error}") from None
    except (sqlite3.Error, OSError) as error:
        raise Unavailable(f"cannot clean {state_dir}: {error}") from None
    if args.json:
        dump_json(report, ctx.out)
        return 0
    *done, kept = report.summary()
    for line in done:
        ctx.print(line)
    ctx.print(kept + (":" if report.protected else ""))
    for protected in report.protected[:SHOWN_PROTECTED]:
        ctx.print(f"  {run_label(protected.run_id)} {protected.pipeline}: {protected.reason}")
    hidden = len(report.protected) - SHOWN_PROTECTED
    if hidden > 0:
        ctx.print(f"  ... and {hidden} more (--json lists them all)")
    return 0
