"""Deployment commands: deployments, deploy, promote, rollback, history, health."""

from __future__ import annotations

import argparse
import asyncio

from shipdeck.cli.arguments import Subcommands, add_command, add_json_option, positive_int
from shipdeck.cli.context import CliContext
from shipdeck.cli.output import colour_enabled, dump_json, listed_as_json_or_none, table, timestamp
from shipdeck.logtext import terminal_colours, visible
from shipdeck.model import (
    EMPTY_REVISION,
    ActionPlan,
    DeployAction,
    DeployFinishedEvent,
    GateResult,
    HistoryEntry,
    LogEvent,
    Outcome,
)
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label
from shipdeck.runners.protocol import Runner

_OUTCOME_MARK = {
    Outcome.SUCCEEDED: ("✓", "32"),
    Outcome.FAILED: ("✗", "31"),
    Outcome.RUNNING: ("▶", "36"),
    Outcome.REFUSED: ("⊘", "33"),
    Outcome.CONFLICT: ("⚡", "35"),
    Outcome.INTERRUPTED: ("!", "35"),
}


def outcome_text(outcome: Outcome, ctx: CliContext) -> str:
    symbol, colour = _OUTCOME_MARK[outcome]
    text = f"{symbol} {outcome.value}"
    return f"\x1b[{colour}m{text}\x1b[0m" if colour_enabled(ctx.out) else text


FOLLOW_WAIT = 0.5
"""Seconds one wait for events may take while following a deploy run's log."""


def register(sub: Subcommands) -> None:
    p = add_command(sub, "deployments", deployments_command, needs_file=False)
    add_json_option(p)

    p = add_command(sub, "deploy", deploy_command)
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("revision", metavar="REVISION")
    p.add_argument("--env", required=True, metavar="ENV")
    _action_options(p, force=True)

    p = add_command(sub, "promote", promote_command)
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("--to", dest="env", required=True, metavar="ENV")
    _action_options(p, force=True)

    p = add_command(sub, "rollback", rollback_command)
    p.add_argument("service", metavar="SERVICE")
    p.add_argument("--env", required=True, metavar="ENV")
    p.add_argument("--to", dest="revision", metavar="REV", help="an earlier revision of ENV")
    _action_options(p, force=False)

    # A service's records, newest first, for all its environments or one: what was done to
    # it, and its scheduled health checks.
    for name, handler, limit in (("history", history_command, 50), ("health", health_command, 20)):
        p = add_command(sub, name, handler, needs_file=False)
        p.add_argument("service", metavar="SERVICE")
        p.add_argument("--env", metavar="ENV")
        p.add_argument("--limit", type=positive_int, default=limit)
        add_json_option(p)


def _action_options(p: argparse.ArgumentParser, *, force: bool) -> None:
    p.add_argument(
        "--expect",
        metavar="REV",
        help="the revision ENV must hold now ('none' when empty); default: what it holds as read"
        " just before acting",
    )
    if force:
        p.add_argument("--force", action="store_true", help="go ahead although gates failed")
    p.add_argument("--reason", default="", metavar="TEXT", help="why (kept in the history)")
    p.add_argument("--dry-run", action="store_true", help="show what would run; change nothing")


async def deploy_runner(ctx: CliContext) -> Runner:
    """The workspace's runner, as long as it deploys."""
    return await ctx.runner_that(Capability.DEPLOYMENTS)


# Actions --------------------------------------------------------------------------------


async def deploy_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """deploy a revision (v3, r12, an alias) to an environment"""
    runner = await ctx.runner()
    plan = await (await deploy_runner(ctx)).plan(
        DeployAction.DEPLOY, args.service, args.env, revision=args.revision
    )
    return await _act(ctx, runner, plan, args)


async def promote_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """deploy the previous environment's revision to ENV"""
    runner = await ctx.runner()
    plan = await (await deploy_runner(ctx)).plan(DeployAction.PROMOTE, args.service, args.env)
    return await _act(ctx, runner, plan, args)


async def rollback_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """return an environment to its previous revision"""
    runner = await ctx.runner()
    plan = await (await deploy_runner(ctx)).plan(
        DeployAction.ROLLBACK, args.service, args.env, revision=args.revision
    )
    return await _act(ctx, runner, plan, args)


async def _act(ctx: CliContext, runner: Runner, plan: ActionPlan, args: argparse.Namespace) -> int:
    deployer = await deploy_runner(ctx)
    force = bool(getattr(args, "force", False))
    if args.dry_run:
        _print_plan(ctx, plan, force)
        return 0 if plan.gates_passed or force else 1
    _print_heading(ctx, plan)
    _print_gates(ctx, plan.gates)
    expect = args.expect if args.expect is not None else (plan.from_revision or EMPTY_REVISION)
    after = await runner.last_seq()
    entry = await _start(deployer, plan, expect, force, args.reason)
    if entry.outcome == Outcome.RUNNING and entry.run_id is not None:
        ctx.print(f"run {run_label(entry.run_id)} deploy:{plan.service} started")
        entry = await _follow(ctx, runner, deployer, entry, after)
    _print_outcome(ctx, entry)
    return 0 if entry.outcome == Outcome.SUCCEEDED else 1


async def _start(
    deployer: Runner, plan: ActionPlan, expect: str, force: bool, reason: str
) -> HistoryEntry:
    """The action, once its deploy run has started (or refused, or in conflict: raised)."""
    if plan.action == DeployAction.DEPLOY:
        return await deployer.deploy(
            plan.service,
            plan.to_revision,
            plan.env,
            expect=expect,
            force=force,
            reason=reason,
            wait=False,
        )
    if plan.action == DeployAction.PROMOTE:
        return await deployer.promote(
            plan.service, plan.env, expect=expect, force=force, reason=reason, wait=False
        )
    return await deployer.rollback(
        plan.service, plan.env, to=plan.to_revision, expect=expect, reason=reason, wait=False
    )


async def _follow(
    ctx: CliContext, runner: Runner, deployer: Runner, entry: HistoryEntry, after: int
) -> HistoryEntry:
    """Print the deploy run's output as it happens, until the action's `deploy_finished`."""
    try:
        while True:
            page = await runner.wait_events(after, wait=FOLLOW_WAIT)
            after = page.last_seq
            if page.reset:
                ended = await _ended(deployer, entry)
                if ended is not None:
                    return ended
            for event in page.events:
                if isinstance(event, LogEvent) and event.run_id == entry.run_id:
                    text = event.data.text
                    shown = terminal_colours(text) if colour_enabled(ctx.out) else visible(text)
                    ctx.print(f"  {event.task} | {shown}")
                elif isinstance(event, DeployFinishedEvent) and event.data.id == entry.id:
                    return event.data
    except asyncio.CancelledError:
        if not ctx.runs_in_process:
            run = "" if entry.run_id is None else f" (run {run_label(entry.run_id)})"
            ctx.print(
                f"detached: the {entry.action.value} goes on in the runner{run};"
                f" follow: shipdeck logs {entry.run_id} -f"
            )
        raise


async def _ended(deployer: Runner, entry: HistoryEntry) -> HistoryEntry | None:
    """The action's entry if it has ended (asked when events were dropped)."""
    for found in await deployer.history(entry.service, entry.env, limit=50):
        if found.id == entry.id and found.outcome != Outcome.RUNNING:
            return found
    return None


def _describe(plan: ActionPlan) -> str:
    source = f" from {plan.source_env}" if plan.source_env else ""
    return (
        f"{plan.action.value} {plan.service} {plan.to_revision}{source} to {plan.env}"
        f" ({plan.env}: {plan.from_revision or EMPTY_REVISION} -> {plan.to_revision})"
    )


def _print_heading(ctx: CliContext, plan: ActionPlan) -> None:
    ctx.print(_describe(plan))


def _print_gates(ctx: CliContext, gates: list[GateResult]) -> None:
    colour = colour_enabled(ctx.out)
    for gate in gates:
        mark, code = ("✓ pass", "32") if gate.passed else ("✗ fail", "31")
        if colour:
            mark = f"\x1b[{code}m{mark}\x1b[0m"
        ctx.print(f"  gate {mark}  {gate.gate}: {gate.reason}")


def _print_plan(ctx: CliContext, plan: ActionPlan, force: bool) -> None:
    ctx.print(f"dry run: would {_describe(plan)}")
    if plan.gates:
        ctx.print("gates:")
        _print_gates(ctx, plan.gates)
    for task in plan.tasks:
        ctx.print(f"would run {task.name}: {task.command}")
    ctx.print("with environment:")
    for name, value in plan.environment.items():
        ctx.print(f"  {name}={value}")
    if not plan.gates_passed:
        verdict = "would go ahead (--force)" if force else "would be refused: gate failed"
        ctx.print(verdict)
    ctx.print("nothing was changed")


def _print_outcome(ctx: CliContext, entry: HistoryEntry) -> None:
    forced = " (forced past failed gates)" if entry.forced else ""
    ctx.print(f"{outcome_text(entry.outcome, ctx)}{forced}: {entry.detail}")


# Reads ----------------------------------------------------------------------------------


async def deployments_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """what each environment of each service holds"""
    states = await (await deploy_runner(ctx)).deployments()
    none = "no services declared; add [services.NAME] to the workspace file"
    if listed_as_json_or_none(states, ctx.out, as_json=args.json, none=none):
        return 0
    rows = []
    for state in states:
        health = state.health or "-"
        if state.health and state.health_revision and state.health_revision != state.revision:
            health = f"{state.health} ({state.health_revision})"
        busy = state.in_flight
        rows.append(
            [
                state.service,
                state.env,
                state.revision or "-",
                timestamp(state.since),
                state.user or "-",
                health,
                run_label(state.run_id) if state.run_id else "-",
                f"{busy.action.value} to {busy.to_revision} by {busy.user}" if busy else "",
            ]
        )
    ctx.print(
        table(["SERVICE", "ENV", "REVISION", "SINCE", "BY", "HEALTH", "RUN", "IN FLIGHT"], rows)
    )
    return 0


async def history_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """every action on a service: who, when, outcome, gates"""
    entries = await (await deploy_runner(ctx)).history(
        args.service, args.env, limit=max(1, args.limit)
    )
    where = f" {args.env} of" if args.env else ""
    none = f"no actions on{where} {args.service} yet"
    if listed_as_json_or_none(entries, ctx.out, as_json=args.json, none=none):
        return 0
    rows = [
        [
            str(entry.id),
            timestamp(entry.at),
            entry.env,
            f"auto {entry.action.value}" if entry.automatic else entry.action.value,
            f"{entry.from_revision or EMPTY_REVISION} -> {entry.to_revision}",
            outcome_text(entry.outcome, ctx),
            entry.user,
            _gates_summary(entry),
            run_label(entry.run_id) if entry.run_id else "-",
            _note(entry),
        ]
        for entry in entries
    ]
    headers = ["ID", "WHEN", "ENV", "ACTION", "CHANGE", "OUTCOME", "BY", "GATES", "RUN", "NOTE"]
    ctx.print(table(headers, rows))
    return 0


def _gates_summary(entry: HistoryEntry) -> str:
    if not entry.gates:
        return "-"
    passed = sum(1 for gate in entry.gates if gate.passed)
    text = f"{passed}/{len(entry.gates)}"
    return f"{text} forced" if entry.forced else text


def _note(entry: HistoryEntry) -> str:
    """The operator's reason, and why the action did not succeed."""
    parts = [entry.reason] if entry.reason else []
    if entry.outcome != Outcome.SUCCEEDED and entry.detail:
        parts.append(entry.detail)
    return "; ".join(parts)


async def health_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """a service's scheduled health checks (health_every)"""
    runner = await ctx.runner_that(Capability.DEPLOYMENTS)
    checks = await runner.health_checks(args.service, args.env, limit=max(1, args.limit))
    if args.json:
        dump_json(checks, ctx.out)
        return 0
    if not checks:
        where = f" {args.env} of" if args.env else ""
        ctx.print(
            f"no scheduled health checks of{where} {args.service} yet"
            " (health_every in shipdeck.toml; the workspace's runner runs them)"
        )
        return 0
    rows = [
        [
            timestamp(check.at),
            check.env,
            check.revision,
            _health_text(check.passed, ctx),
            str(check.failures) if check.failures else "-",
            "-" if check.exit_code is None else str(check.exit_code),
            f"{check.duration:.1f}s",
            visible((check.output.strip().splitlines() or [""])[-1])[:80],
        ]
        for check in checks
    ]
    headers = ["WHEN", "ENV", "REVISION", "HEALTH", "IN A ROW", "EXIT", "TOOK", "LAST LINE"]
    ctx.print(table(headers, rows))
    return 0


def _health_text(passed: bool, ctx: CliContext) -> str:
    text, colour = ("✓ passed", "32") if passed else ("✗ failed", "31")
    return f"\x1b[{colour}m{text}\x1b[0m" if colour_enabled(ctx.out) else text
