"""What the TUI takes from the user config (`shipdeck.config`): theme, keymap, read-only runners.

A missing file is fine; a broken one never stops the TUI: its problems come back as one-line
messages to notify, and the parts that validate are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shipdeck.config import read_settings
from shipdeck.paths import themes_dir
from shipdeck.tui.keymap import validate_keymap


@dataclass
class TuiConfig:
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    read_only_runners: set[str] = field(default_factory=set)
    read_only: bool = False
    """Every runner read-only, as with --read-only (`[tui] read_only`)."""
    themes_dir: Path | None = None
    """Where user themes live: `themes/` next to the config file."""
    problems: list[str] = field(default_factory=list)


def load_config(path: Path | None = None) -> TuiConfig:
    loaded = read_settings(path)
    settings = loaded.settings
    config = TuiConfig(
        theme=settings.tui.theme,
        read_only=settings.tui.read_only,
        themes_dir=themes_dir(loaded.path),
        problems=loaded.all_problems,
    )
    config.keymap, problems = validate_keymap(settings.keymap)
    config.problems.extend(f"{loaded.path}: {problem}" for problem in problems)
    config.read_only_runners = {e.name for e in settings.runners if e.read_only}
    config.read_only_runners |= loaded.legacy_read_only
    return config
