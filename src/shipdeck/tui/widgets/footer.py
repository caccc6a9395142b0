"""A Footer that rebuilds its keys only when the keys it would show changed, and shows only the
keys that fit on its one line.

Textual's Footer recomposes (unmounts and mounts every key) after each "bindings changed"
signal of its screen, and opening a screen sends several that change nothing visible (the
screen stack, the first focus and its after-refresh echo, focusing the focused widget
again), and a screen under a pushed one rebuilds its footer unseen: tens of milliseconds
each, all before the screen settles.
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.cells import cell_len
from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

ALWAYS_SHOWN = frozenset({"app.help", "app.quit", "back"})
"""Actions whose key stays in a narrow footer: help lists every key the footer had to leave out,
and the way out (quit, or back where `q` goes back) is never the one left out."""


def shown_keys(screen: Screen[object]) -> Hashable:
    """What a footer on `screen` shows: each shown binding and whether it is enabled."""
    return tuple(
        (key, binding.action, binding.description, binding.group, enabled, tooltip)
        for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
        if binding.show
    )


class SteadyFooter(Footer):
    def __init__(self, *, compact: bool = False, id: str | None = None) -> None:
        super().__init__(compact=compact, id=id)
        self._shown: Hashable = None
        self.rebuilds = 0

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            if not screen.is_current:
                return  # a screen under another: rebuilt if need be when it is back on top
            if self._shown == shown_keys(screen):
                return
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        if self.is_attached:
            shown = shown_keys(self.screen)
            if shown == self._shown:
                return  # asked twice before the first rebuild ran
            self._shown = shown
        self.rebuilds += 1
        await super().recompose()
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Hide what does not fit on the line (a narrow terminal ran the keys under the palette
        key and past the edge): first the palette key, then the view's keys from the right."""
        keys = list(self.query("FooterKey"))
        widths = {key: _width(key) for key in keys}
        palette = [key for key in keys if key.has_class("-command-palette")]
        droppable = palette + [
            key
            for key in reversed(keys)
            if key not in palette and getattr(key, "action", "") not in ALWAYS_SHOWN
        ]
        total = sum(widths.values())
        hidden = set()
        for key in droppable:
            if total <= self.size.width:
                break
            hidden.add(key)
            total -= widths[key]
        for key in keys:
            key.display = key not in hidden


def _width(key: Widget) -> int:
    """The cells a key takes on the line: its label, padding, border and margins."""
    label = key.render()
    text = label.plain if isinstance(label, Text) else str(label)
    return cell_len(text) + key.styles.gutter.width + key.styles.margin.width
