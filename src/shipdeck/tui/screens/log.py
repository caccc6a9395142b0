"""One task's log, full screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen

from shipdeck.model import EventPage
from shipdeck.model.ids import run_label
from shipdeck.tui import keymap
from shipdeck.tui.current import cockpit_of, follow_runner_events
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.widgets.footer import SteadyFooter
from shipdeck.tui.widgets.header import AppHeader

if TYPE_CHECKING:
    pass


class LogScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("back", "close"))
    DEFAULT_CSS = """
    LogScreen LogPane { height: 1fr; }
    """

    def __init__(self, run_id: str, task: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.task_name = task

    def compose(self) -> ComposeResult:
        app = cockpit_of(self)
        yield AppHeader(f"run {run_label(self.run_id)} / {self.task_name}")
        yield LogPane(app.runner, self.run_id, self.task_name, id="log-pane")
        yield SteadyFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(LogPane).view.focus()
        follow_runner_events(self, self.on_runner_events)

    @property
    def pane(self) -> LogPane:
        return self.query_one(LogPane)

    def action_back(self) -> None:
        if not self.pane.close_search():
            self.app.pop_screen()

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        app = cockpit_of(self)
        if runner_index != app.active:
            return
        self.pane.apply_events(page)
