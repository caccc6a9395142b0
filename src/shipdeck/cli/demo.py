"""`shipdeck demo init DIR` writes the demo workspace; `shipdeck demo run [DIR]` runs it."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from shipdeck.cli.context import CliContext
from shipdeck.cli.output import duration, number, status_text, table
from shipdeck.cli.progress import follow_run
from shipdeck.demo import DEMO_PIPELINES, ensure_demo, init_demo
from shipdeck.model import RunDetail, RunStatus

DEFAULT_DIR = ".demo"

# What the summary shows per pipeline: (label, metric key, whether to add up the tasks' values).
KEY_METRICS: dict[str, list[tuple[str, str, bool]]] = {
    "ci": [("tests", "tests", True), ("archive bytes", "archive_bytes", False)],
    "train": [("auc", "auc", False), ("accuracy", "accuracy", False)],
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="the demo workspace: write it out, or run it")
    actions = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)

    p = actions.add_parser("init", help="write the demo workspace into DIR")
    p.add_argument("dir", metavar="DIR")
    p.add_argument(
        "--force", action="store_true", help="write into a non-empty DIR (overwrites demo files)"
    )
    p.set_defaults(handler=init_command)

    p = actions.add_parser("run", help="write the demo (if needed) and run its pipelines")
    p.add_argument("dir", metavar="DIR", nargs="?", default=DEFAULT_DIR)
    p.set_defaults(handler=run_command)


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
            ctx.print(f"\nrun #{run.id} {pipeline}")
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
        parts.append(f"{label}={number(value)}")
    return " ".join(parts) or "-"


def summary_table(details: list[RunDetail], ctx: CliContext) -> str:
    rows = [
        [
            f"#{d.run.id}",
            d.run.pipeline,
            status_text(d.run.status.value, ctx.out),
            duration(d.run.duration),
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
