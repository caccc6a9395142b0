"""Follow a run on the event feed and print each task as it starts and ends."""

from __future__ import annotations

import asyncio
import contextlib

from shipdeck.cli.context import CliContext
from shipdeck.cli.output import status_text, visible_len
from shipdeck.formatting import format_duration
from shipdeck.model import Run, RunDetail, RunEvent, RunStatus, TaskEvent, TaskRun, TaskStatus
from shipdeck.model.ids import run_label
from shipdeck.runners.protocol import Runner


def task_line(task: TaskRun, width: int, ctx: CliContext) -> str:
    status = status_text(task.status.value, ctx.out)
    parts = ["  " + status + " " * (13 - visible_len(status)), task.name.ljust(width)]
    if task.status.finished:
        parts.append(format_duration(task.duration).rjust(6))
    if task.reason and task.status != TaskStatus.SUCCEEDED:
        parts.append(task.reason)
    if task.reused_from is not None:
        parts.append(f"(kept from run {run_label(task.reused_from)})")
    return "  ".join(parts).rstrip()


def summary_line(detail: RunDetail) -> str:
    run = detail.run
    counts: dict[str, int] = {}
    for task in detail.tasks:
        counts[task.status.value] = counts.get(task.status.value, 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    took = format_duration(run.duration)
    line = f"run {run.label} {run.pipeline} {run.status.value} in {took} ({tally})"
    failed = [t.name for t in detail.tasks if t.status == TaskStatus.FAILED]
    if failed:
        line += f"; see: shipdeck logs {run.id} {failed[0]}"
    return line


async def queued_line(runner: Runner, run: Run) -> str | None:
    """Why a run has not started: its pipeline's `concurrency` slots are taken by the runs
    ahead of it. None when none is (every run is queued for a moment before it starts)."""
    limit = next((p.concurrency for p in await runner.pipelines() if p.name == run.pipeline), None)
    if limit is None:
        return None
    recent = await runner.runs(pipeline=run.pipeline, limit=50)
    # Newest first, as the runner orders its runs: the ones after this run are older.
    position = next((i for i, r in enumerate(recent) if r.id == run.id), None)
    older = recent[position + 1 :] if position is not None else recent
    ahead = [r for r in reversed(older) if not r.status.finished and r.created_at <= run.created_at]
    if len(ahead) < limit:
        return None
    waits_for = ", ".join(r.label for r in ahead)
    rule = f"{run.pipeline} runs at most {limit} at a time"
    return f"  queued: run {run.label} waits for {waits_for} ({rule})"


async def follow_run(runner: Runner, run_id: str, after: int, ctx: CliContext) -> Run:
    """Print task transitions of `run_id` from events after `after` until the run finishes.

    On Ctrl-C (the handler's task is cancelled) a run executing inside this process is cancelled;
    a run on a runner daemon keeps going, and the command says how to follow or cancel it.
    """
    detail = await runner.run(run_id)
    width = max((len(t.name) for t in detail.tasks), default=8)
    printed: dict[str, TaskStatus] = {}

    def show(task: TaskRun) -> None:
        if printed.get(task.name) == task.status or task.status == TaskStatus.PENDING:
            return
        printed[task.name] = task.status
        ctx.print(task_line(task, width, ctx))

    for task in detail.tasks:
        if task.reused_from is not None:
            show(task)
    if detail.run.status == RunStatus.QUEUED:
        waiting = await queued_line(runner, detail.run)
        if waiting is not None:
            ctx.print(waiting)
    try:
        while not detail.run.status.finished:
            page = await runner.wait_events(after, wait=1.0)
            after = page.last_seq
            changed = page.reset or not page.events
            for event in page.events:
                if event.run_id != run_id:
                    continue
                if isinstance(event, TaskEvent):
                    show(event.data)
                elif isinstance(event, RunEvent):
                    changed = True
            if changed:
                detail = await runner.run(run_id)
                for task in detail.tasks:
                    if task.status.finished:
                        show(task)
    except asyncio.CancelledError:
        if ctx.runs_in_process:
            with contextlib.suppress(Exception):
                await asyncio.shield(runner.cancel(run_id))
            ctx.print(f"cancelled run {run_label(run_id)}")
        else:
            ctx.print(
                f"detached: run {run_label(run_id)} keeps running on the runner; "
                f"follow: shipdeck logs {run_id} -f   cancel: shipdeck cancel {run_id}"
            )
        raise
    for task in detail.tasks:
        show(task)
    ctx.print(summary_line(detail))
    return detail.run
