"""`shipdeck validate`: load the workspace file and report every problem."""

from __future__ import annotations

import argparse

from shipdeck.cli.context import CliContext


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="check the workspace file and report every problem")
    p.set_defaults(handler=validate_command)


async def validate_command(args: argparse.Namespace, ctx: CliContext) -> int:
    workspace = ctx.workspace()
    tasks = sum(len(p.tasks) for p in workspace.pipelines.values())
    ctx.print(f"ok: {workspace.file} ({len(workspace.pipelines)} pipelines, {tasks} tasks)")
    return 0
