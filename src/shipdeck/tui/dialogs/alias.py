"""`a` on a model version: point an alias at it, showing from -> to before anything moves."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from shipdeck.model import ModelVersion
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import version_label
from shipdeck.tui import keymap
from shipdeck.tui.current import cockpit_of
from shipdeck.tui.format import error_line
from shipdeck.tui.view_data.models import CHAMPION, ModelFamily


class AliasScreen(ModalScreen[bool]):
    """Dismisses with True once the alias moved."""

    CSS_PATH = "deploy_modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [keymap.ALL_BINDINGS["back"]]

    def __init__(self, runner_index: int, family: ModelFamily, version: ModelVersion) -> None:
        super().__init__()
        self.runner_index = runner_index
        self.family = family
        self.version = version

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(
                f"Move an alias of {self.family.name} to {self.version.label}",
                id="dialog-title",
            )
            with Horizontal(classes="form-row"):
                yield Label("alias", classes="form-label")
                yield Input(CHAMPION, id="alias-name", classes="form-input")
            yield Static("", id="alias-move")
            yield Static("", id="dialog-error")
            yield Static("[b]enter[/b] move alias   [b]esc[/b] keep as is", id="dialog-keys")

    def on_mount(self) -> None:
        self._show_move(CHAMPION)
        self.query_one(Input).focus()

    def current(self, alias: str) -> str | None:
        for version in self.family.versions:
            if alias in version.aliases:
                return version.version
        return None

    def _show_move(self, alias: str) -> None:
        before = self.current(alias)
        was = version_label(before) if before is not None else "(unset)"
        line = f"{self.family.name}@{alias or '?'}: {was} → {self.version.label}"
        if before == self.version.version:
            line += "  (already there)"
        self.query_one("#alias-move", Static).update(line)

    def on_input_changed(self, message: Input.Changed) -> None:
        message.stop()
        self._show_move(message.value.strip())

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        alias = message.value.strip()
        error = self.query_one("#dialog-error", Static)
        if not alias:
            error.update("[b]error:[/b] the alias needs a name (champion, challenger, ...)")
            return
        cockpit, app = cockpit_of(self), self.app
        deployer = cockpit.runners[self.runner_index]
        lacks = cockpit.runner_lacks(self.runner_index, Capability.ALIASES)
        if lacks:
            error.update(error_line(lacks))
            return

        async def move() -> None:
            try:
                moved = await deployer.alias(self.family.name, alias, self.version.revision)
            except Exception as failure:
                error.update(error_line(failure))
                return
            before, after = (
                version_label(version) if version is not None else "(unset)"
                for version in (moved.from_version, moved.to_version)
            )
            app.notify(f"{moved.model}@{moved.alias}: {before} → {after}")
            self.dismiss(True)

        self.run_worker(move(), group="alias", exclusive=True)

    def action_back(self) -> None:
        self.dismiss(False)
