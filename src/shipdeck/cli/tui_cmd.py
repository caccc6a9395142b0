"""`shipdeck` with no command: the TUI, on the workspace's runner or the configured runners."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shipdeck.cli.context import CliContext
from shipdeck.errors import ShipdeckError, WorkspaceError
from shipdeck.runners.protocol import Runner

if TYPE_CHECKING:
    from shipdeck.config import LoadedSettings


def configured_runners(loaded: LoadedSettings) -> tuple[list[Runner], list[str]]:
    """Every runner of the user config that can be opened, and one line for each that cannot
    (a missing token must not keep the operator out of the other runners)."""
    from shipdeck.runners.connect import open_entry

    runners: list[Runner] = []
    warnings = list(loaded.runner_problems)
    for entry in loaded.settings.runners:
        try:
            runners.append(open_entry(entry))
        except ShipdeckError as error:
            warnings.append(f"runner {entry.name} left out: {error}")
    return runners, warnings


async def tui_runners(ctx: CliContext) -> tuple[list[Runner], list[str]]:
    """`--runner` (repeatable) if given; else the workspace's runner together with the
    configured runners (unless `[tui] runners = "workspace"`); else the configured runners;
    and what the app should warn about as it opens.

    A workspace whose file does not load is never passed over for the configured runners. With
    its daemon running, the TUI opens on it: the daemon keeps its last good configuration and
    refuses to start runs and deploys until the file loads (someone editing shipdeck.toml must
    not lock the on-call operator out of the cockpit); the problems are shown at start. With
    no daemon running, they are reported as by every command (nothing starts on that file)."""
    from shipdeck.config import read_settings

    if ctx.runner_specs:
        from shipdeck.runners.connect import open_remote

        if len(ctx.runner_specs) == 1:
            return [await ctx.runner()], []
        return [open_remote(spec) for spec in ctx.runner_specs], []
    try:
        ctx.workspace_file()
    except WorkspaceError:
        if getattr(ctx.args, "directory", None):
            raise
        runners, warnings = configured_runners(read_settings())
        if not runners:
            raise WorkspaceError(
                [
                    "no shipdeck.toml here or in any parent directory, and no runners configured: "
                    "use -C DIR, `shipdeck demo`, or `shipdeck runner add NAME URL`",
                    *warnings,
                ]
            ) from None
        return runners, warnings
    try:
        ctx.workspace()
    except WorkspaceError as problems:
        daemon = await ctx.running_daemon(problems)  # or the problems, raised
        warning = (
            f"{ctx.workspace_file().name} does not load: the runner keeps its last good"
            " configuration (schedules, monitor and health checks run on it) and refuses runs"
            " and deploys until it does"
        )
        local, warnings = [daemon], [warning, *problems.problems]
    else:
        # The app's first requests start a daemon that is not running, while it builds its
        # screens.
        local, warnings = [await ctx.runner(lazily=True)], []
    loaded = read_settings()
    if loaded.settings.tui.runners != "all":
        return local, warnings
    others, left_out = configured_runners(loaded)
    return [*local, *others], [*warnings, *left_out]


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
