"""What an app under test shows, read through Textual's public API only: the notifications it
raised (recorded from its `notify`) and the toasts on its screen. The whole screen as text:
tests/tui/screen_text.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel
from textual.widgets import DataTable

from shipdeck.tui.widgets.virtual_table import VirtualTable


@dataclass(frozen=True)
class Notice:
    message: str
    title: str
    severity: str


class Notices:
    """Every notification `app` raises from now on, in order. A toast that timed out stays
    here: a test that asserts one was never raised sees all there were."""

    def __init__(self, app: App[Any]) -> None:
        self.shown: list[Notice] = []
        notify = app.notify

        def recording(
            message: str,
            *,
            title: str = "",
            severity: SeverityLevel = "information",
            timeout: float | None = None,
            markup: bool = True,
        ) -> None:
            self.shown.append(Notice(str(message), title, severity))
            notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

        app.notify = recording  # type: ignore[method-assign]

    def __iter__(self) -> Any:
        return iter(self.shown)

    def __len__(self) -> int:
        return len(self.shown)

    def titled(self, title: str) -> list[str]:
        return [notice.message for notice in self.shown if notice.title == title]


def row_keys(table: DataTable[Any] | VirtualTable) -> list[str]:
    """The keys of a table's rows as shown, top to bottom."""
    if isinstance(table, DataTable):
        return [str(row.key.value) for row in table.ordered_rows]
    return list(table.keys)


def toast_texts(app: App[Any]) -> list[str]:
    """The text of each notification on screen now, as drawn (its title, a newline, its
    message): what the operator reads, markup and all."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]
