"""The running ShipdeckApp, typed, from any of its widgets, screens or palette providers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.app import App

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
