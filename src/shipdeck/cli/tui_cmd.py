"""`shipdeck` with no command: the TUI, on the workspace's runner or the configured runners."""

from __future__ import annotations

import argparse

from shipdeck.cli.context import CliContext
from shipdeck.errors import WorkspaceError
from shipdeck.runners.protocol import Runner


async def tui_runners(ctx: CliContext) -> list[Runner]:
    """`--runner` if given; else the workspace's runner; else every configured runner.

    A workspace whose file does not load is reported (the TUI starts runs and deploys with
    it), not passed over for the configured runners."""
    if ctx.runner_spec:
        return [await ctx.runner()]
    try:
        ctx.workspace_file()
    except WorkspaceError:
        if getattr(ctx.args, "directory", None):
            raise
        from shipdeck.config import load_runners
        from shipdeck.runners.connect import open_remote

        entries = load_runners()
        if not entries:
            raise WorkspaceError(
                [
                    "no shipdeck.toml here or in any parent directory, and no runners configured: "
                    "use -C DIR, `shipdeck demo`, or `shipdeck runner add NAME URL`"
                ]
            ) from None
        return [open_remote(entry.name) for entry in entries]
    # The app's first requests start a daemon that is not running, while it builds its screens.
    # A file that does not load is reported here, as by every command that needs it.
    return [await ctx.runner(lazily=True)]


async def open_tui(ctx: CliContext, runners: list[Runner]) -> int:
    """Run the app in this event loop, so the runners' connections stay usable inside it."""
    from shipdeck.tui import create_app

    app = create_app(
        runners,
        read_only=bool(getattr(ctx.args, "tui_read_only", False)),
        theme=getattr(ctx.args, "theme", None),
    )
    try:
        await app.run_async()
    finally:
        for runner in runners:
            if runner is not ctx.current_runner:
                await runner.close()
    return app.return_code or 0


async def tui_command(args: argparse.Namespace, ctx: CliContext) -> int:
    return await open_tui(ctx, await tui_runners(ctx))
