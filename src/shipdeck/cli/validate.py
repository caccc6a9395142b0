"""`shipdeck validate`: load the workspace file and report every problem."""

from __future__ import annotations

import argparse

from shipdeck.cli.arguments import Subcommands, add_command
from shipdeck.cli.context import CliContext


def register(sub: Subcommands) -> None:
    add_command(sub, "validate", validate_command)


async def validate_command(args: argparse.Namespace, ctx: CliContext) -> int:
    """check the workspace file and report every problem"""
    workspace = ctx.workspace()
    tasks = sum(len(p.tasks) for p in workspace.pipelines.values())
    ctx.print(f"ok: {workspace.file} ({len(workspace.pipelines)} pipelines, {tasks} tasks)")
    return 0
