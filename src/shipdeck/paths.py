"""Where shipdeck's user files live: the one place that knows.

The user config is `$SHIPDECK_CONFIG` if set (tests and scripts point it at their own file),
else `$XDG_CONFIG_HOME/shipdeck/config.toml`, else `~/.config/shipdeck/config.toml`. User
themes live in `themes/` beside whichever config file is in use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CONFIG_ENV = "SHIPDECK_CONFIG"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/shipdeck` (default `~/.config/shipdeck`)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "shipdeck"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The user config file in use."""
    env = os.environ if env is None else env
    override = env.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return config_dir(env) / "config.toml"


def themes_dir(config_file: Path) -> Path:
    """User themes: `themes/` next to the config file."""
    return config_file.parent / "themes"
