"""One task's log, full screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer

from shipdeck.model import EventKind, EventPage
from shipdeck.tui import keymap
from shipdeck.tui.data import event_log_line, event_task
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.tui.widgets.log_pane import LogPane

if TYPE_CHECKING:
    from shipdeck.tui.app import ShipdeckApp


class LogScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("back"))
    DEFAULT_CSS = """
    LogScreen LogPane { height: 1fr; }
    """

    def __init__(self, run_id: int, task: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.task_name = task

    def compose(self) -> ComposeResult:
        from shipdeck.tui.app import ShipdeckApp

        app = self.app
        assert isinstance(app, ShipdeckApp)
        yield AppHeader(f"run #{self.run_id} / {self.task_name}")
        yield LogPane(app.runner, self.run_id, self.task_name, id="log-pane")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(LogPane).view.focus()

    @property
    def pane(self) -> LogPane:
        return self.query_one(LogPane)

    def action_back(self) -> None:
        if not self.pane.close_search():
            self.app.pop_screen()

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        app: ShipdeckApp = self.app  # type: ignore[assignment]
        if runner_index != app.active:
            return
        if page.reset:
            self.pane.view.resync()
            return
        lines = []
        finished = False
        for event in page.events:
            if event.run_id != self.run_id or event.task != self.task_name:
                continue
            if event.kind == EventKind.LOG:
                line = event_log_line(event)
                if line is not None:
                    lines.append(line)
            elif event.kind == EventKind.TASK:
                task = event_task(event)
                finished = finished or (task is not None and task.status.finished)
        if lines:
            self.pane.view.add_lines(lines)
        if finished:
            self.pane.view.mark_finished()
