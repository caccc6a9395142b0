"""Acknowledge an alert: a note saying what is being done about it, then the acknowledgement."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from shipdeck.model import Alert
from shipdeck.tui import keymap
from shipdeck.tui.current import cockpit_of
from shipdeck.tui.format import error_line


class AckScreen(ModalScreen[bool]):
    """A note, then the acknowledgement; dismisses with True once it is recorded."""

    DEFAULT_CSS = """
    AckScreen { align: center middle; background: $background 60%; }
    AckScreen #dialog {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $panel; padding: 0 1;
    }
    AckScreen #dialog-title { text-style: bold; }
    AckScreen .form-row { height: auto; }
    AckScreen .form-label { width: 6; padding: 1 1 0 0; }
    AckScreen .form-input { width: 1fr; }
    AckScreen #dialog-error { color: $error; height: auto; }
    AckScreen #dialog-keys { color: $foreground 80%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [keymap.ALL_BINDINGS["back"]]

    def __init__(self, runner_index: int, alert: Alert) -> None:
        super().__init__()
        self.runner_index = runner_index
        self.alert = alert

    def compose(self) -> ComposeResult:
        alert = self.alert
        with Vertical(id="dialog"):
            yield Static(
                Text(f"Acknowledge alert #{alert.id}: {alert.monitor} {alert.threshold}"),
                id="dialog-title",
            )
            yield Static(
                Text(f"value {alert.value:.6g}, open since {alert.since:%Y-%m-%d %H:%M} UTC")
            )
            with Horizontal(classes="form-row"):
                yield Label("note", classes="form-label")
                yield Input(placeholder="what is being done about it", classes="form-input")
            yield Static("", id="dialog-error")
            yield Static(
                Text.from_markup("[b]enter[/b] acknowledge   [b]esc[/b] cancel"), id="dialog-keys"
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        note = message.value.strip()
        error = self.query_one("#dialog-error", Static)
        if not note:
            error.update(error_line("say what is being done about it: the note is kept"))
            return
        app = self.app
        runner = cockpit_of(self).runners[self.runner_index]

        async def acknowledge() -> None:
            try:
                acked = await runner.ack_alert(self.alert.id, note=note)
            except Exception as failure:
                error.update(error_line(failure))
                return
            app.notify(f"alert #{acked.id}: acknowledged by {acked.acked_by}")
            self.dismiss(True)

        self.run_worker(acknowledge(), group="ack", exclusive=True)

    def action_back(self) -> None:
        self.dismiss(False)
