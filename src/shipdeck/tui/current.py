"""The running app's cockpit, typed, from any of its widgets, screens or palette providers;
and the app's signals (clock ticks, runner events) for views that follow them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from textual import log

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode
    from textual.widget import Widget

    from shipdeck.model import EventPage
    from shipdeck.tui.app import ShipdeckApp
    from shipdeck.tui.cockpit import Cockpit


class _InApp(Protocol):
    @property
    def app(self) -> App[Any]: ...


def shipdeck_app(node: _InApp) -> ShipdeckApp:
    """`node.app` as the ShipdeckApp it always is (imported late: app.py imports the screens)."""
    from shipdeck.tui.app import ShipdeckApp

    app = node.app
    assert isinstance(app, ShipdeckApp)
    return app


def cockpit_of(node: _InApp) -> Cockpit:
    """What views, dialogs and screens use of the app: its runners, clock, colours..."""
    cockpit: Cockpit = shipdeck_app(node).cockpit
    return cockpit


def tick_while_shown(node: Widget, repaint: Callable[[], object]) -> None:
    """Call `repaint` on the app's clock tick while `node` can be seen (its screen is shown,
    under a dialog too, and it is not a hidden tab): ages keep moving, hidden views cost
    nothing. Call from `on_mount`."""

    def tick(_now: datetime) -> None:
        if node.display and node.screen.is_current:
            repaint()

    shipdeck_app(node).ticks.subscribe(node, tick)


def follow_runner_events(node: DOMNode, handler: Callable[[int, EventPage], object]) -> None:
    """Call `handler(runner_index, page)` with each page of events from any runner while
    `node` is mounted, in the order they arrive. A handler that raises is reported and the
    others still get the page: one view's bug must not stop the feed the rest rely on.
    Call from `on_mount`."""
    app = shipdeck_app(node)
    name = type(node).__name__

    def deliver(item: tuple[int, EventPage]) -> None:
        try:
            handler(*item)
        except Exception as error:
            log.error(f"{name} failed on runner events: {error!r}")
            app.notify(f"{name}: {error}", title="view error", severity="error")

    app.runner_events.subscribe(node, deliver, immediate=True)
