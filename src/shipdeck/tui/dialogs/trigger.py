"""Start a pipeline: a form of its params, pre-filled with the defaults."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from shipdeck.model import PipelineSpec
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.format import error_line, format_param


class TriggerScreen(ModalScreen[str | None]):
    """Dismisses with the new run's id, or None when the operator backs out."""

    CSS_PATH = "trigger.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [keymap.ALL_BINDINGS["back"]]

    def __init__(self, spec: PipelineSpec, runner: Runner, where: str = "") -> None:
        super().__init__()
        self.spec = spec
        self.runner = runner
        self.where = where
        """` on NAME` when several runners are connected."""

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(f"Trigger {self.spec.name}{self.where}", id="form-title", markup=False)
            if self.spec.description:
                yield Static(self.spec.description, id="form-description", markup=False)
            if not self.spec.params:
                yield Static("This pipeline takes no params.", classes="form-note")
            for name, value in self.spec.params.items():
                with Horizontal(classes="form-row"):
                    yield Label(name, classes="form-label")
                    yield Input(format_param(value), id=f"param-{name}", classes="form-input")
            yield Static("", id="form-error")
            yield Static("[b]enter[/b] start run   [b]esc[/b] back", id="form-keys")

    def on_mount(self) -> None:
        inputs = self.query(Input)
        if inputs:
            inputs.first().focus()

    def params(self) -> dict[str, str]:
        return {name: self.query_one(f"#param-{name}", Input).value for name in self.spec.params}

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        self.submit()

    def key_enter(self) -> None:
        if not self.query(Input):
            self.submit()

    def submit(self) -> None:
        app = self.app
        params = self.params()
        runner = self.runner

        async def start() -> None:
            try:
                run = await runner.start_run(self.spec.name, params, trigger="tui")
            except Exception as error:
                self.query_one("#form-error", Static).update(error_line(error))
                app.notify(str(error), title=f"Could not start {self.spec.name}", severity="error")
                return
            app.notify(f"Started run {run.label} of {self.spec.name}")
            self.dismiss(run.id)

        self.run_worker(start(), group="trigger", exclusive=True)

    def action_back(self) -> None:
        self.dismiss(None)
