"""A Footer that rebuilds its keys only when the keys it would show changed.

Textual's Footer recomposes (unmounts and mounts every key) after each "bindings changed"
signal of its screen, and opening a screen sends several that change nothing visible (the
screen stack, the first focus and its after-refresh echo, focusing the focused widget
again), and a screen under a pushed one rebuilds its footer unseen: tens of milliseconds
each, all before the screen settles.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.screen import Screen
from textual.widgets import Footer


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
