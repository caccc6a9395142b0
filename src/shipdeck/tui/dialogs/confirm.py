"""A preview of what an action will do; nothing happens unless the operator confirms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from shipdeck.tui import keymap


@dataclass(frozen=True)
class Preview:
    """What an action will do, as the operator is asked to confirm it."""

    title: str
    summary: str
    items: Sequence[str]
    """One line each (tasks to run, to kill, ...)."""
    footnote: str = ""
    action: str = "Confirm"
    """The word on the `y` key."""
    danger: bool = False
    """Drawn in the danger colour (it stops or destroys something)."""


class ConfirmScreen(ModalScreen[bool]):
    CSS_PATH = "confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("confirm.yes", "confirm.no"),
        keymap.ALL_BINDINGS["back"],
    ]

    def __init__(self, preview: Preview) -> None:
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        preview = self.preview
        with Vertical(id="dialog", classes="-danger" if preview.danger else ""):
            yield Static(preview.title, id="dialog-title", markup=False)
            yield Static(preview.summary, id="dialog-summary", markup=False)
            with VerticalScroll(id="dialog-items"):
                for item in preview.items:
                    yield Static(f"  • {item}", classes="dialog-item", markup=False)
            if preview.footnote:
                yield Static(preview.footnote, id="dialog-footnote", markup=False)
            yield Static(
                f"[b]y[/b] {preview.action}   [b]n[/b]/[b]esc[/b] keep as is",
                id="dialog-keys",
            )

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_dismiss_dialog(self) -> None:
        self.dismiss(False)

    def action_back(self) -> None:
        self.dismiss(False)
