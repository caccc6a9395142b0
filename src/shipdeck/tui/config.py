"""The TUI's part of the user config file: `[tui] theme`, `[keymap]`, read-only runners.

The file is $SHIPDECK_CONFIG, else $XDG_CONFIG_HOME/shipdeck/config.toml. A missing file is
fine; a broken one never stops the TUI: problems come back as one-line messages to notify.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shipdeck.tui.keymap import validate_keymap


@dataclass
class TuiConfig:
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    read_only_runners: set[str] = field(default_factory=set)
    themes_dir: Path | None = None
    """Where user themes live: `themes/` next to the config file."""
    problems: list[str] = field(default_factory=list)


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "shipdeck"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    override = env.get("SHIPDECK_CONFIG")
    return Path(override) if override else config_dir(env) / "config.toml"


def load_config(path: Path | None = None) -> TuiConfig:
    path = config_path() if path is None else path
    config = TuiConfig(themes_dir=path.parent / "themes")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return config
    except (OSError, UnicodeDecodeError) as error:
        config.problems.append(f"{path}: cannot read: {error}")
        return config
    except tomllib.TOMLDecodeError as error:
        config.problems.append(f"{path}: invalid TOML: {error}")
        return config

    tui = data.get("tui", {})
    if isinstance(tui, dict):
        theme = tui.get("theme")
        if isinstance(theme, str):
            config.theme = theme
        elif theme is not None:
            config.problems.append(f"{path}: [tui] theme: expected a theme name")
    keymap = data.get("keymap", {})
    if isinstance(keymap, dict):
        config.keymap, problems = validate_keymap(keymap)
        config.problems.extend(f"{path}: {problem}" for problem in problems)
    runners = data.get("runners", {})
    if isinstance(runners, dict):
        for name, table in runners.items():
            if isinstance(table, dict) and table.get("read_only") is True:
                config.read_only_runners.add(name)
    return config
