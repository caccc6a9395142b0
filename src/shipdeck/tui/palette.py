"""Status colours resolved from the active theme, for cells built as Rich text."""

from __future__ import annotations

from collections.abc import Mapping

from rich.style import Style
from rich.text import Text
from textual.color import Color

from shipdeck.model import RunStatus, TaskStatus
from shipdeck.tui.format import glyph

# Which theme colour carries each status. Glyphs carry it too, for NO_COLOR terminals.
STATUS_COLOUR: dict[str, str] = {
    "queued": "foreground-muted",
    "pending": "foreground-muted",
    "running": "accent",
    "retrying": "warning",
    "cancelling": "warning",
    "succeeded": "success",
    "failed": "error",
    "skipped": "foreground-muted",
    "cancelled": "warning",
    "interrupted": "warning",
}


SIGNAL_COLOURS = frozenset({"success", "error", "warning", "accent"})
"""Colours that carry a verdict. Under NO_COLOR Textual turns colours into greys, and a red
turns into a darker grey than a green: the failure would be the quiet one. There, these are
left at the plain foreground, and glyphs (✓ ✗ ▲ ▼) and bold tell the verdict."""


class Palette:
    """Rich styles for statuses under one set of theme variables."""

    def __init__(self, variables: Mapping[str, str], *, no_color: bool = False) -> None:
        self._variables = variables
        self._background = Color.parse(variables.get("background", "#000000"))
        self._cache: dict[str, Style] = {}
        self.no_color = no_color

    def colour(self, name: str) -> Style:
        style = self._cache.get(name)
        if style is None and self.no_color and name in SIGNAL_COLOURS:
            style = self._cache[name] = Style()
        if style is None:
            value = self._variables.get(name, "")
            try:
                colour = self._background + Color.parse(value)
                style = Style(color=colour.rich_color)
            except Exception:
                style = Style()
            self._cache[name] = style
        return style

    def status(self, status: RunStatus | TaskStatus | str) -> Style:
        style = self.colour(STATUS_COLOUR.get(str(status), "foreground"))
        if str(status) == "failed":
            style += Style(bold=True)
        return style

    def badge(self, status: RunStatus | TaskStatus | str, word: str | None = None) -> Text:
        """A glyph plus (optionally) a word, coloured by status."""
        label = glyph(status) if word is None else f"{glyph(status)} {word}"
        return Text(label, style=self.status(status), no_wrap=True, end="")

    @property
    def muted(self) -> Style:
        return self.colour("foreground-muted")
