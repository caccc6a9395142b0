"""The Textual front end. Build it with `create_app` (tests inject their own runners)."""

from __future__ import annotations

from pathlib import Path

from shipdeck.runners.protocol import Runner
from shipdeck.tui.app import ShipdeckApp
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.format import Clock, system_clock

__all__ = ["ShipdeckApp", "create_app"]


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
