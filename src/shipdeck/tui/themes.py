"""Themes as TOML files: the bundled themes (top-level themes/) plus the user's config themes/.

A theme file holds the fields of `textual.theme.Theme` (name, dark, primary, ...) and an
optional `[variables]` table of Textual CSS variables.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from importlib.resources import files
from pathlib import Path

from textual.theme import Theme

DEFAULT_THEME = "shipdeck-dark"

_COLOUR_FIELDS = {
    f.name
    for f in fields(Theme)
    if f.name not in ("name", "dark", "variables", "luminosity_spread", "text_alpha", "ansi")
}

# Used only when no theme files can be found (e.g. an install without the themes/ folder).
FALLBACK = Theme(
    name=DEFAULT_THEME,
    primary="#4f9fe6",
    secondary="#6c7a89",
    accent="#5fc7e6",
    warning="#e6b450",
    error="#f0505a",
    success="#5ccf7a",
    foreground="#d8dee9",
    background="#15181d",
    surface="#1c2027",
    panel="#232833",
    dark=True,
)


def bundled_themes_dir() -> Path | None:
    """The themes shipped with shipdeck: the `shipdeck/themes/` folder inside the package.

    In a wheel that folder holds copies of the repository's top-level themes/ files; in a
    checkout or an editable install it is a symlink to that folder (see pyproject.toml).
    """
    folder = files("shipdeck").joinpath("themes")
    if isinstance(folder, Path) and folder.is_dir():
        return folder
    return None


def theme_from_toml(data: dict[str, object], source: str) -> Theme:
    """Build a Theme from a parsed file; raises ValueError naming the bad field."""
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{source}: missing 'name'")
    if not isinstance(data.get("primary"), str):
        raise ValueError(f"{source}: missing 'primary' colour")
    kwargs: dict[str, object] = {"name": name}
    for key, value in data.items():
        if key in _COLOUR_FIELDS:
            if not isinstance(value, str):
                raise ValueError(f"{source}: {key}: expected a colour string")
            kwargs[key] = value
        elif key == "dark":
            if not isinstance(value, bool):
                raise ValueError(f"{source}: dark: expected true or false")
            kwargs["dark"] = value
        elif key == "variables":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ValueError(f"{source}: [variables]: expected strings")
            kwargs["variables"] = dict(value)
        elif key != "name":
            raise ValueError(f"{source}: unknown field {key!r}")
    theme = Theme(**kwargs)  # type: ignore[arg-type]
    try:
        theme.to_color_system().generate()
    except Exception as error:
        raise ValueError(f"{source}: {error}") from None
    return theme


def load_themes(*folders: Path | None) -> tuple[list[Theme], list[str]]:
    """Every *.toml theme in the folders (later folders override earlier names), and problems."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
                theme = theme_from_toml(data, str(path))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                problems.append(f"{path}: {error}")
                continue
            except ValueError as error:
                problems.append(str(error))
                continue
            themes[theme.name] = theme
    if DEFAULT_THEME not in themes:
        themes[DEFAULT_THEME] = FALLBACK
    return list(themes.values()), problems
