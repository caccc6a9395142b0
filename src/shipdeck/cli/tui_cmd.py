"""`shipdeck` with no command: the TUI, on the workspace's runner or the configured runners."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from shipdeck.cli.context import CliContext
from shipdeck.errors import WorkspaceError
from shipdeck.runners.protocol import Runner


async def tui_runners(ctx: CliContext) -> tuple[list[Runner], list[str]]:
    """`--runner` if given; else the workspace's runner; else every configured runner; and
    what the app should warn about as it opens.

    A workspace whose file does not load is never passed over for the configured runners. With
    its daemon running, the TUI opens on it: the daemon keeps its last good configuration and
    refuses to start runs and deploys until the file loads (someone editing shipdeck.toml must
    not lock the on-call operator out of the cockpit); the problems are shown at start. With
    no daemon running, they are reported as by every command (nothing starts on that file)."""
    if ctx.runner_spec:
        return [await ctx.runner()], []
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
        return [open_remote(entry.name) for entry in entries], []
    try:
        ctx.workspace()
    except WorkspaceError as problems:
        daemon = await ctx.running_daemon(problems)  # or the problems, raised
        warning = (
            f"{ctx.workspace_file().name} does not load: the runner keeps its last good"
            " configuration and refuses runs and deploys until it does"
        )
        return [daemon], [warning, *problems.problems]
    # The app's first requests start a daemon that is not running, while it builds its screens.
    return [await ctx.runner(lazily=True)], []


async def open_tui(ctx: CliContext, runners: list[Runner], warnings: Sequence[str] = ()) -> int:
    """Run the app in this event loop, so the runners' connections stay usable inside it."""
    from shipdeck.tui import create_app

    app = create_app(
        runners,
        read_only=bool(getattr(ctx.args, "tui_read_only", False)),
        theme=getattr(ctx.args, "theme", None),
        warnings=list(warnings),
    )
    try:
        await app.run_async()
    finally:
        for runner in runners:
            if runner is not ctx.current_runner:
                await runner.close()
    return app.return_code or 0


async def tui_command(args: argparse.Namespace, ctx: CliContext) -> int:
    runners, warnings = await tui_runners(ctx)
    return await open_tui(ctx, runners, warnings)
