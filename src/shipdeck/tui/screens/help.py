"""`?`: the keys of the view underneath, straight from its active bindings."""

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


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        keymap.ALL_BINDINGS["back"],
        Binding("question_mark,q", "back", "Close", show=False, id="help.close"),
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
            with VerticalScroll():
                yield Static(self.keys_table())
            yield Static(
                'ids remap keys: [keymap] <id> = "keys" in config.toml   esc close',
                id="help-hint",
            )

    def action_back(self) -> None:
        self.dismiss(None)
