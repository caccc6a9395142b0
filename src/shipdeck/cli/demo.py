"""`shipdeck demo init DIR` writes the demo workspace; `shipdeck demo run [DIR]` runs it."""

from __future__ import annotations

import argparse
import asyncio
import shlex
from pathlib import Path

from shipdeck.cli.arguments import Subcommands, add_command
from shipdeck.cli.context import CliContext
from shipdeck.cli.output import status_text, table
from shipdeck.cli.progress import follow_run
from shipdeck.demo import DEMO_PIPELINES, default_demo_dir, ensure_demo, init_demo
from shipdeck.demo.seed import seed_deployments, start_seed_runs
from shipdeck.errors import InvalidInput
from shipdeck.formatting import format_duration, format_number
from shipdeck.model import RunDetail, RunStatus

DEFAULT_DIR = ".demo"

# What the summary shows per pipeline: (label, metric key, whether to add up the tasks' values).
KEY_METRICS: dict[str, list[tuple[str, str, bool]]] = {
    "ci": [("tests", "tests", True), ("archive bytes", "archive_bytes", False)],
    "train": [("auc", "auc", False), ("accuracy", "accuracy", False)],
}


def register(sub: Subcommands) -> None:
    demo = add_command(
        sub,
        "demo",
        demo_command,
        usage="shipdeck demo [DIR] | shipdeck demo init DIR [--force] | shipdeck demo run [DIR]",
    )
    demo.add_argument("words", nargs="*", metavar="ARGS")
    demo.add_argument(
        "--force",
        action="store_true",
        help="init: write into a non-empty DIR (overwrites demo files)",
    )


async def demo_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """open the TUI on the demo workspace (written first if needed)

    shipdeck demo [DIR]: write the demo workspace (default: the user data directory) if needed
    and open the TUI on it. demo init DIR: only write it. demo run [DIR]: run its pipelines
    headless and print a summary.
    """
    words: list[str] = args.words
    action = words[0] if words and words[0] in ("init", "run") else "open"
    rest = words[1:] if action != "open" else words
    if len(rest) > 1 or (action == "init" and not rest):
        expected = {"init": "demo init DIR", "run": "demo run [DIR]", "open": "demo [DIR]"}
        raise InvalidInput(f"usage: shipdeck {expected[action]}")
    if action == "init":
        return await init_command(argparse.Namespace(dir=rest[0], force=args.force), ctx)
    if action == "run":
        return await run_command(argparse.Namespace(dir=rest[0] if rest else DEFAULT_DIR), ctx)
    return await open_command(Path(rest[0]) if rest else default_demo_dir(), ctx)


async def open_command(directory: Path, ctx: CliContext) -> int:
    """Open the TUI on the demo. A demo written just now gets a few runs started to watch, and
    what they build deployed as it lands (beside the TUI, which opens at once)."""
    from shipdeck.cli.tui_cmd import open_tui

    root, created = ensure_demo(directory)
    # The TUI's context (no command's handler): --read-only is the TUI's, which hides actions.
    opened = {**vars(ctx.args), "directory": str(root), "handler": None}
    demo_ctx = CliContext(argparse.Namespace(**opened))
    seeding: asyncio.Task[None] | None = None
    try:
        runner = await demo_ctx.runner()
        if created:
            runs = await start_seed_runs(runner)
            seeding = asyncio.create_task(seed_deployments(runner, runs))
        code = await open_tui(demo_ctx, [runner])
    finally:
        if seeding is not None:
            seeding.cancel()
            await asyncio.gather(seeding, return_exceptions=True)
        await demo_ctx.close()
    if not demo_ctx.runs_in_process:
        # The demo's drift monitor would keep its daemon busy (a daemon with schedules never
        # idles out): a showcase leaves nothing running once it is closed.
        from shipdeck.runners.daemon import stop as stop_daemon

        if await stop_daemon(demo_ctx.workspace_place()) is not None:
            ctx.print(
                "stopped the demo's runner (its drift monitor would go on in the background);"
                f" `shipdeck demo {shlex.quote(str(root))}` starts it again"
            )
    return code


async def init_command(args: argparse.Namespace, ctx: CliContext) -> int:
    target = init_demo(Path(args.dir), force=args.force)
    ctx.print(f"wrote the demo workspace to {target}")
    ctx.print(next_steps(Path(args.dir)))
    return 0


async def run_command(args: argparse.Namespace, ctx: CliContext) -> int:
    given = Path(args.dir)
    root, created = ensure_demo(given)
    if created:
        ctx.print(f"wrote the demo workspace to {root}")
    # The same context (and runner factory) as any command, pointed at the demo: like -C DIR.
    demo_args = argparse.Namespace(**{**vars(args), "directory": str(given)})
    demo_ctx = CliContext(demo_args, out=ctx.out)
    try:
        runner = await demo_ctx.runner()
        details: list[RunDetail] = []
        for pipeline in DEMO_PIPELINES:
            after = await runner.last_seq()
            run = await runner.start_run(pipeline, trigger="demo")
            ctx.print(f"\nrun {run.label} {pipeline}")
            await follow_run(runner, run.id, after, ctx)
            details.append(await runner.run(run.id))
    finally:
        await demo_ctx.close()
    ctx.print("")
    ctx.print(summary_table(details, ctx))
    ctx.print("")
    ctx.print(next_steps(given))
    return 0 if all(d.run.status == RunStatus.SUCCEEDED for d in details) else 1


def key_metrics(detail: RunDetail) -> str:
    """The headline numbers of a demo run, e.g. "tests=14 archive bytes=6124"."""
    parts = []
    for label, key, add_up in KEY_METRICS.get(detail.run.pipeline, []):
        last_by_task: dict[str, float] = {}
        for metric in detail.metrics:
            if metric.key == key:
                last_by_task[metric.task] = metric.value
        if not last_by_task:
            continue
        values = list(last_by_task.values())
        value = sum(values) if add_up else values[-1]
        parts.append(f"{label}={format_number(value)}")
    return " ".join(parts) or "-"


def summary_table(details: list[RunDetail], ctx: CliContext) -> str:
    rows = [
        [
            d.run.label,
            d.run.pipeline,
            status_text(d.run.status.value, ctx.out),
            format_duration(d.run.duration),
            key_metrics(d),
        ]
        for d in details
    ]
    return table(["RUN", "PIPELINE", "STATUS", "DURATION", "KEY METRICS"], rows)


def next_steps(directory: Path) -> str:
    where = f"-C {shlex.quote(str(directory))} " if directory != Path() else ""
    return "\n".join(
        [
            "next:",
            f"  shipdeck {where}run ci                   # lint, test, build, package",
            f"  shipdeck {where}run train -p flaky=true  # fails once, on purpose",
            f"  shipdeck {where}rerun last --failed      # reruns only what failed",
            f"  shipdeck {where}runs                     # history",
            f"  see {directory / 'README.md'} for what is inside",
        ]
    )
