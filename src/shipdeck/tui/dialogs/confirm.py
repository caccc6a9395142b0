"""A preview of what an action will do; nothing happens unless the operator confirms."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from shipdeck.tui import keymap


class ConfirmScreen(ModalScreen[bool]):
    CSS_PATH = "confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("confirm.yes", "confirm.no"),
        keymap.ALL_BINDINGS["back"],
    ]

    def __init__(
        self,
        title: str,
        summary: str,
        items: list[str],
        *,
        footnote: str = "",
        action: str = "Confirm",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.summary = summary
        self.items = items
        self.footnote = footnote
        self.action_label = action
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-danger" if self.danger else ""):
            yield Static(self.title_text, id="dialog-title", markup=False)
            yield Static(self.summary, id="dialog-summary", markup=False)
            with VerticalScroll(id="dialog-items"):
                for item in self.items:
                    yield Static(f"  • {item}", classes="dialog-item", markup=False)
            if self.footnote:
                yield Static(self.footnote, id="dialog-footnote", markup=False)
            yield Static(
                f"[b]y[/b] {self.action_label}   [b]n[/b]/[b]esc[/b] keep as is",
                id="dialog-keys",
            )

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_dismiss_dialog(self) -> None:
        self.dismiss(False)

    def action_back(self) -> None:
        self.dismiss(False)
