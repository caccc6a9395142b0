"""`?`: the keys of the view underneath, straight from its active bindings. The list scrolls
(j/k, arrows, page keys) inside a dialog that never grows past the screen."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from shipdeck.tui import keymap

HELP_CHROME = 4
"""Rows of the help dialog that are not the list: its border (2), title and hint."""


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        keymap.ALL_BINDINGS["back"],
        Binding("question_mark,q", "back", "Close", show=False, id="help.close"),
        # The list's own keys, as in every list (a remapped list.down moves this one too);
        # arrows and page keys come with the scrolling list itself.
        *keymap.bindings("list.down", "list.up"),
    ]

    def __init__(self, underneath: Screen[object]) -> None:
        super().__init__()
        self.underneath = underneath

    def keys_table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.add_column(style="dim", no_wrap=True)
        seen: dict[str, list[str]] = {}
        described: dict[str, tuple[str, str]] = {}
        for active in self.underneath.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.id or binding.id.startswith("help."):
                continue
            name = binding.id or binding.action
            display = (
                self.app.get_key_display(binding)
                if binding.key_display is None
                else (binding.key_display)
            )
            seen.setdefault(name, [])
            if display not in seen[name]:
                seen[name].append(display)
            described[name] = (binding.tooltip or binding.description, binding.id)
        for name, keys in seen.items():
            description, binding_id = described[name]
            table.add_row(Text(" ".join(keys)), description, binding_id)
        return table

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static("Keys", id="help-title")
            with VerticalScroll(id="help-keys"):
                yield Static(self.keys_table())
            yield Static(
                '[keymap] <id> = "keys" remaps   j/k scroll   esc close',
                id="help-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The list gets the screen's height less the frame, title and hint: the hint and the
        frame's bottom stay on screen at 80x24 and smaller, and the rest scrolls."""
        self.query_one("#help-keys").styles.max_height = max(1, self.size.height - HELP_CHROME)

    def action_cursor_down(self) -> None:
        self.query_one("#help-keys").scroll_down(animate=False)

    def action_cursor_up(self) -> None:
        self.query_one("#help-keys").scroll_up(animate=False)

    def action_back(self) -> None:
        self.dismiss(None)
