"""The Textual front end. Build it with `create_app` (tests inject their own runners)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from shipdeck.runners.protocol import Runner
from shipdeck.tui.app import ShipdeckApp
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.format import Clock, system_clock

__all__ = ["ShipdeckApp", "create_app", "run_tui"]


def create_app(
    runners: list[Runner],
    *,
    read_only: bool = False,
    theme: str | None = None,
    clock: Clock = system_clock,
    config: TuiConfig | None = None,
    extra_themes_dir: Path | None = None,
    warnings: list[str] | None = None,
) -> ShipdeckApp:
    """The app over these runners. `config=None` reads the user's config file. `warnings`:
    shown once it opens (the first line as the title of the rest)."""
    return ShipdeckApp(
        runners,
        read_only=read_only,
        theme=theme,
        clock=clock,
        config=config,
        extra_themes_dir=extra_themes_dir,
        warnings=warnings,
    )


def run_tui(runners: list[Runner], *, read_only: bool = False, theme: str | None = None) -> int:
    """Run the TUI in the terminal until the operator quits, then close the runners.

    Runs its own event loop; from async code use `create_app(...).run_async()` instead.
    """

    async def main() -> int:
        app = create_app(runners, read_only=read_only, theme=theme)
        try:
            await app.run_async()
        finally:
            for runner in runners:
                with contextlib.suppress(Exception):
                    await runner.close()
        return app.return_code or 0

    return asyncio.run(main())
