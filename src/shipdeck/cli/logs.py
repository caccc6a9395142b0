"""`shipdeck logs RUN [TASK] [--follow] [--raw]`.

What a task printed never drives the operator's terminal: on a terminal, lines are shown as
their visible text with their colours (a safe subset); into a pipe or file, as plain visible
text, so `grep` matches what was shown. `--raw` writes the bytes as the task printed them, for
a pipe or a file only.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from shipdeck.cli.context import CliContext
from shipdeck.cli.output import colour_enabled, is_terminal
from shipdeck.errors import InvalidInput, NotFound
from shipdeck.logtext import terminal_colours, visible
from shipdeck.model import LogLine, LogStream
from shipdeck.runners.protocol import Runner

PAGE = 5000


def format_line(
    line: LogLine, timestamps: bool, prefix: str = "", shown: Callable[[str], str] = visible
) -> str:
    text = shown(line.text)
    if line.stream == LogStream.SYS:
        text = f"» {text}"
    if timestamps:
        text = f"{line.ts.astimezone().strftime('%H:%M:%S.%f')[:-3]} {text}"
    return prefix + text


def line_text(ctx: CliContext) -> Callable[[str], str]:
    """How a line's text is written to this command's output."""
    if ctx.args.raw:
        if is_terminal(ctx.out):
            raise InvalidInput(
                "--raw writes the task's control sequences as they are: "
                "send it to a pipe or a file, not a terminal"
            )
        return str
    return terminal_colours if colour_enabled(ctx.out) else visible


async def _print_from(
    runner: Runner, ctx: CliContext, run_id: str, task: str, start: int, prefix: str
) -> tuple[int, bool]:
    """Print the task's lines from `start`; return the next line number and whether it ended."""
    shown = line_text(ctx)
    reading = asyncio.ensure_future(runner.read_log(run_id, task, start=start, limit=PAGE))
    try:
        while True:
            chunk = await reading
            start = chunk.start + len(chunk.lines)
            if len(chunk.lines) == PAGE:
                # The next page is read while this one is written.
                reading = asyncio.ensure_future(
                    runner.read_log(run_id, task, start=start, limit=PAGE)
                )
            if chunk.lines:
                # One write per page: a write (and flush) per line was most of the time spent.
                ctx.out.write(
                    "".join(
                        format_line(line, ctx.args.timestamps, prefix, shown) + "\n"
                        for line in chunk.lines
                    )
                )
                ctx.out.flush()
            if len(chunk.lines) < PAGE:
                return start, chunk.finished and start >= chunk.total
    finally:
        reading.cancel()  # a page read ahead that will not be written (the output closed)


async def logs_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """print (or follow) a run's logs"""
    line_text(ctx)  # refuse --raw on a terminal before anything is read
    runner = await ctx.runner()
    run_id = await runner.resolve_run(args.run)
    detail = await runner.run(run_id)
    names = [task.name for task in detail.tasks]
    if args.task is not None and args.task not in names:
        raise NotFound(
            f"run {detail.run.label} has no task {args.task!r}; tasks: {', '.join(names)}"
        )
    tasks = [args.task] if args.task else names
    many = len(tasks) > 1
    width = max(len(name) for name in tasks)

    if not args.follow:
        for task in tasks:
            if many:
                status = detail.task(task)
                ctx.print(f"==> {task} ({status.status.value if status else '?'}) <==")
            await _print_from(runner, ctx, run_id, task, 0, "")
        return 0

    positions = dict.fromkeys(tasks, 0)
    ended = dict.fromkeys(tasks, False)
    after = await runner.last_seq()
    while True:
        for task in tasks:
            if not ended[task]:
                prefix = f"{task.ljust(width)} | " if many else ""
                positions[task], ended[task] = await _print_from(
                    runner, ctx, run_id, task, positions[task], prefix
                )
        if all(ended.values()):
            return 0
        run = (await runner.run(run_id)).run
        if run.status.finished:
            # One last pass once the runner says what the run recorded has landed (a Prefect
            # worker ships log lines after the run's end): then it is all there is.
            await runner.wait_run(run_id)
            for task in tasks:
                if not ended[task]:
                    prefix = f"{task.ljust(width)} | " if many else ""
                    await _print_from(runner, ctx, run_id, task, positions[task], prefix)
            return 0
        page = await runner.wait_events(after, wait=0.5)
        after = page.last_seq
