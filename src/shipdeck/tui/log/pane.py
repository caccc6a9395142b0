"""A log view with its status line and search box."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from shipdeck.formatting import plural
from shipdeck.model import EventPage, LogEvent, TaskEvent
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.log.view import LogState, LogView

SEARCH_HINT = "search (enter to find, esc to close, ctrl+t for a regex)"
REGEX_HINT = "regex search (enter to find, esc to close, ctrl+t for plain text)"


class LogPane(Vertical):
    # Here, not on the view: the key works while typing in the search box too.
    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("log.regex"))
    DEFAULT_CSS = """
    LogPane { height: 1fr; }
    LogPane > .log-status { height: 1; background: $panel; color: $foreground; }
    LogPane > Input { dock: bottom; padding: 0 1; display: none; }
    LogPane > Input.-active { display: block; }
    """

    def __init__(
        self,
        runner: Runner,
        run_id: str,
        task: str,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.runner = runner
        self.run_id = run_id
        self.task_name = task
        # Built here, not in compose: events may arrive for this pane before it is mounted.
        self._view = LogView(runner, run_id, task)
        self._view.open_search = self.open_search

    def compose(self) -> ComposeResult:
        yield Static(f" {self.task_name}", classes="log-status")
        yield self._view
        yield Input(
            placeholder=SEARCH_HINT,
            id="log-search",
            compact=True,
            select_on_focus=False,  # its focus event may land after the first typed keys
        )

    @property
    def view(self) -> LogView:
        return self._view

    def apply_events(self, page: EventPage) -> None:
        """Follow this pane's task on a page of its runner's events."""
        if page.reset:
            self._view.resync()
            return
        lines = []
        finished = False
        for event in page.events:
            if event.run_id != self.run_id or event.task != self.task_name:
                continue
            if isinstance(event, LogEvent):
                lines.append(event.line())
            elif isinstance(event, TaskEvent):
                finished = finished or event.data.status.finished
        if lines:
            self._view.add_lines(lines)
        if finished:
            self._view.mark_finished()

    def on_log_view_changed(self, message: LogView.Changed) -> None:
        self.query_one(".log-status", Static).update(self._status(message.state))
        self.query_one(Input).placeholder = REGEX_HINT if message.state.regex else SEARCH_HINT

    def action_toggle_regex(self) -> None:
        self._view.action_toggle_regex()

    def _status(self, state: LogState) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f" {self.task_name}", style="bold")
        text.append(f"  {plural(state.total, 'line')}")
        text.append("  done" if state.finished else "  live")
        flags = [
            name
            for name, on in (
                ("FOLLOW", state.follow),
                ("WRAP", state.wrap),
                ("TIME", state.timestamps),
                ("FILTER", state.filtering),
                ("REGEX", state.regex),
            )
            if on
        ]
        if flags:
            text.append("  " + " ".join(flags), style="bold")
        if state.pattern:
            text.append(f"  /{state.pattern}{search_position(state)}")
        if state.note and not (state.match_count == 0 and state.note.startswith("no match")):
            text.append(f"  {state.note}", style="italic")
        return text

    def open_search(self) -> None:
        search = self.query_one(Input)
        search.add_class("-active")
        search.value = ""
        # Focused now, not via focus()'s later callback: the app forwards the keys typed
        # after `/` (a priority binding) to whatever has the focus when it gets to them.
        self.screen.set_focus(search)

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        self._close_search()
        self.view.search(message.value)

    def close_search(self) -> bool:
        """Hide the search box if it is open; True when it was."""
        search = self.query_one(Input)
        if not search.has_class("-active"):
            return False
        self._close_search()
        return True

    def _close_search(self) -> None:
        self.query_one(Input).remove_class("-active")
        self.view.focus()


def search_position(state: LogState) -> str:
    """` 2/12` on a match once the matches are counted; ` @LINE …` while they are counted."""
    if state.match_count == 0:
        return "  no matches"
    if state.match_count is not None:
        if state.match_index is not None:
            return f" {state.match_index}/{state.match_count}"
        return f"  {plural(state.match_count, 'match', 'matches')}"
    where = f" @{state.match_line + 1}" if state.match_line is not None else ""
    return f"{where} …"
