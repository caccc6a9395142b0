"""The running ShipdeckApp, typed, from any of its widgets, screens or palette providers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget

    from shipdeck.tui.app import ShipdeckApp


class _InApp(Protocol):
    @property
    def app(self) -> App[Any]: ...


def shipdeck_app(node: _InApp) -> ShipdeckApp:
    """`node.app` as the ShipdeckApp it always is (imported late: app.py imports the screens)."""
    from shipdeck.tui.app import ShipdeckApp

    app = node.app
    assert isinstance(app, ShipdeckApp)
    return app


def tick_while_shown(node: Widget, repaint: Callable[[], object]) -> None:
    """Call `repaint` on the app's clock tick while `node` can be seen (its screen is shown,
    under a dialog too, and it is not a hidden tab): ages keep moving, hidden views cost
    nothing. Call from `on_mount`."""

    def tick(_now: datetime) -> None:
        if node.display and node.screen.is_current:
            repaint()

    shipdeck_app(node).ticks.subscribe(node, tick)
