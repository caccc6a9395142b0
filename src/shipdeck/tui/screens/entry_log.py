"""A screen of one runner's entries (an environment's history, a monitor's checks) above the
selected entry's log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen
from textual.widgets import DataTable

from shipdeck.model import EventPage
from shipdeck.tui.current import cockpit_of
from shipdeck.tui.log.pane import LogPane

if TYPE_CHECKING:
    from shipdeck.tui.cockpit import Cockpit


class EntryLogScreen(Screen[None]):
    """Enter on an entry moves to its log; the runner's events reach the log as they come;
    esc goes back. Subclasses call `follow_runner_events(self, self.on_runner_events)` on
    mount."""

    def __init__(self, runner_index: int) -> None:
        super().__init__()
        self.runner_index = runner_index

    @property
    def cockpit(self) -> Cockpit:
        return cockpit_of(self)

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        panes = self.query(LogPane)
        if panes:
            panes.first().view.focus()

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        if runner_index != self.runner_index:
            return
        for pane in self.query(LogPane):
            pane.apply_events(page)

    def action_back(self) -> None:
        self.app.pop_screen()
