"""Pipeline run commands: run, runs, show, logs, rerun, cancel."""

from __future__ import annotations

import argparse
from typing import Any

from shipdeck.cli.arguments import Subcommands, add_command, add_json_option, positive_int
from shipdeck.cli.context import CliContext
from shipdeck.cli.lineage import lineage_lines
from shipdeck.cli.logs import logs_command
from shipdeck.cli.output import dump_json, listed_as_json_or_none, status_text, table, timestamp
from shipdeck.cli.progress import follow_run
from shipdeck.errors import InvalidInput
from shipdeck.formatting import format_duration, format_number
from shipdeck.model import RerunMode, Run, RunDetail, RunStatus
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label
from shipdeck.runners.base import RERUN_NEEDS


def register(sub: Subcommands) -> None:
    p = add_command(sub, "run", run_command)
    p.add_argument("pipeline")
    p.add_argument(
        "-p", dest="params", action="append", default=[], metavar="KEY=VALUE", help="set a param"
    )
    p.add_argument("--jobs", type=positive_int, help="tasks to run at once (default: CPU count)")
    add_json_option(p, "print the finished run as JSON")

    p = add_command(sub, "runs", runs_command, needs_file=False)
    p.add_argument("--pipeline")
    p.add_argument("--limit", type=positive_int, default=20)
    add_json_option(p)

    p = add_command(sub, "show", show_command, needs_file=False)
    _run_argument(p)
    add_json_option(p)

    p = add_command(sub, "logs", logs_command, needs_file=False)
    _run_argument(p)
    p.add_argument("task", nargs="?", metavar="TASK")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")
    p.add_argument("-t", "--timestamps", action="store_true", help="show each line's time")
    p.add_argument(
        "--raw",
        action="store_true",
        help="the task's output as printed, control sequences included (pipes and files only)",
    )

    p = add_command(sub, "rerun", rerun_command)
    _run_argument(p)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--failed", action="store_true", help="only tasks that did not succeed")
    mode.add_argument("--from", dest="from_task", metavar="TASK", help="TASK and its downstream")
    p.add_argument("--jobs", type=positive_int)
    add_json_option(p)

    p = add_command(sub, "cancel", cancel_command, needs_file=False)
    _run_argument(p)


def _run_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN", help="run id or 'last'")


async def _finish(ctx: CliContext, run: Run, after: int, as_json: bool) -> int:
    runner = await ctx.runner()
    if as_json:
        finished = await runner.wait_run(run.id)
        dump_json(await runner.run(run.id), ctx.out)
    else:
        finished = await follow_run(runner, run.id, after, ctx)
    return 0 if finished.status == RunStatus.SUCCEEDED else 1


async def run_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """start a pipeline run and wait for it"""
    from shipdeck.workspace import parse_param_args

    params = parse_param_args(args.params)
    needs = [Capability.TRIGGER, Capability.TRIGGER_PARAMS] if params else [Capability.TRIGGER]
    runner = await ctx.runner_that(*needs)
    after = await runner.last_seq()
    run = await runner.start_run(args.pipeline, params, jobs=args.jobs)
    if not args.json:
        ctx.print(
            f"run {run.label} {run.pipeline} started: {run.tasks_total} tasks, jobs {run.jobs}"
        )
    return await _finish(ctx, run, after, args.json)


async def rerun_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """rerun a run: all tasks, failed ones, or from a task"""
    mode = RerunMode.FAILED if args.failed else RerunMode.FROM if args.from_task else RerunMode.ALL
    runner = await ctx.runner_that(RERUN_NEEDS[mode])
    run_id = await runner.resolve_run(args.run)
    after = await runner.last_seq()
    run = await runner.rerun(run_id, mode, from_task=args.from_task, jobs=args.jobs)
    if not args.json:
        planned = run.tasks_total - run.tasks_done
        # A runner that reruns in place (Prefect) answers the same run: name it by its label.
        origin = run.label if run.id == run_id else run_label(run_id)
        counted = f", {planned} of {run.tasks_total} tasks to run" if run.tasks_total else ""
        ctx.print(
            f"run {run.label} {run.pipeline} started: rerun ({mode.value}) of {origin}{counted}"
        )
    return await _finish(ctx, run, after, args.json)


async def runs_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """list runs, newest first"""
    runner = await ctx.runner()
    runs = await runner.runs(pipeline=args.pipeline, limit=args.limit)
    if args.pipeline is not None and not runs:
        # Recorded runs are listed whether or not shipdeck.toml still declares (or ever
        # declared, like `deploy:api`) their pipeline; only a name with neither is a typo.
        names = [p.name for p in await runner.pipelines()]
        if args.pipeline not in names:
            raise InvalidInput(f"unknown pipeline {args.pipeline!r}; pipelines: {', '.join(names)}")
    none = "no runs yet; start one with: shipdeck run PIPELINE"
    if listed_as_json_or_none(runs, ctx.out, as_json=args.json, none=none):
        return 0
    rows = [
        [
            run.label,
            run.pipeline,
            status_text(run.status.value, ctx.out),
            f"{run.tasks_done}/{run.tasks_total}",
            timestamp(run.started_at or run.created_at),
            format_duration(run.duration),
            _origin(run),
            run.user,
        ]
        for run in runs
    ]
    ctx.print(
        table(["RUN", "PIPELINE", "STATUS", "TASKS", "STARTED", "TOOK", "TRIGGER", "BY"], rows)
    )
    return 0


def _origin(run: Run) -> str:
    if run.parent_id is None:
        return run.trigger
    mode = run.rerun_mode.value if run.rerun_mode else "all"
    detail = f" {run.rerun_from}" if run.rerun_from else ""
    return f"rerun {mode}{detail} of {run_label(run.parent_id)}"


async def show_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """a run's tasks, metrics and lineage (code and data)"""
    runner = await ctx.runner()
    detail = await runner.run(await runner.resolve_run(args.run))
    if args.json:
        dump_json(detail, ctx.out)
        return 0
    ctx.print(render_detail(detail, ctx))
    return 0


def render_detail(detail: RunDetail, ctx: CliContext) -> str:
    run = detail.run
    lines = [
        f"run {run.label}  {run.pipeline}  {status_text(run.status.value, ctx.out)}  "
        f"tasks {detail.tally()}",
        f"started {timestamp(run.started_at)}  took {format_duration(run.duration)}  "
        f"by {run.user or '-'}  trigger {_origin(run)}",
    ]
    if run.cause is not None:
        from shipdeck.cli.schedules import describe_cause

        lines += describe_cause(run.cause)
    if run.params:
        lines.append("params  " + "  ".join(f"{k}={v}" for k, v in run.params.items()))
    lines.append("")
    rows = [
        [
            task.name,
            status_text(task.status.value, ctx.out),
            str(task.attempts),
            format_duration(task.duration),
            "-" if task.exit_code is None else str(task.exit_code),
            _task_note(task.reason, task.reused_from),
        ]
        for task in detail.tasks
    ]
    lines.append(table(["TASK", "STATUS", "ATTEMPTS", "TOOK", "EXIT", "NOTE"], rows))
    metrics = _metric_rows(detail)
    if metrics:
        lines += ["", table(["METRIC", "TASK", "LAST", "MIN", "MAX", "STEPS"], metrics)]
    lineage = lineage_lines(detail.lineage)
    if lineage:
        lines += ["", *lineage]
    return "\n".join(lines)


def _task_note(reason: str | None, reused_from: str | None) -> str:
    if reused_from is not None:
        return f"kept from run {run_label(reused_from)}"
    return reason or ""


def _metric_rows(detail: RunDetail) -> list[list[str]]:
    series: dict[tuple[str, str], list[Any]] = {}
    for metric in detail.metrics:
        series.setdefault((metric.task, metric.key), []).append(metric)
    rows = []
    for (task, key), points in series.items():
        values = [p.value for p in points]
        ranked = enumerate(points)
        last = max(ranked, key=lambda ip: (ip[1].step if ip[1].step is not None else -1, ip[0]))
        steps = sum(1 for p in points if p.step is not None)
        rows.append(
            [
                key,
                task,
                format_number(last[1].value),
                format_number(min(values)),
                format_number(max(values)),
                str(steps),
            ]
        )
    return rows


async def cancel_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """cancel a running run (kills its tasks)"""
    runner = await ctx.runner_that(Capability.CANCEL)
    run = await runner.cancel(await runner.resolve_run(args.run))
    ctx.print(f"run {run.label} {run.pipeline}: {run.status.value}")
    return 0
