"""A DataTable whose rows are keyed: refreshed in place, keeping the cursor on its row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.widgets import DataTable

from shipdeck.tui import keymap

Cell = str | Text


class KeyedTable(DataTable[Cell]):
    DEFAULT_CSS = """
    KeyedTable { height: auto; max-height: 100%; background: $surface; }
    KeyedTable > .datatable--header { background: $surface; color: $foreground 60%; }
    KeyedTable:blur > .datatable--cursor { background: $surface; text-style: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = list(keymap.bindings("list.down", "list.up", "open"))

    def __init__(self, columns: Sequence[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._column_spec = list(columns)
        self._keys: list[str] = []

    def on_mount(self) -> None:
        self._ensure_columns()

    def _ensure_columns(self) -> None:
        """Columns before the first rows, even when rows arrive before the mount completes
        (a prefetched snapshot can be painted that early)."""
        if not self.columns:
            for key, label in self._column_spec:
                self.add_column(label, key=key)

    def action_open(self) -> None:
        self.action_select_cursor()

    @property
    def selected_key(self) -> str | None:
        if not self._keys or not 0 <= self.cursor_row < len(self._keys):
            return None
        return self._keys[self.cursor_row]

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        self._ensure_columns()
        # DataTable reads a str cell as markup: runner text ('[/tmp/x]' in a failure reason, a
        # description with brackets) would be mangled or raise. Cells are shown as written.
        rows = [(key, [plain(cell) for cell in cells]) for key, cells in rows]
        keys = [key for key, _ in rows]
        if keys == self._keys:
            columns = [key for key, _ in self._column_spec]
            for key, cells in rows:
                for column, cell in zip(columns, cells, strict=True):
                    if self.get_cell(key, column) != cell:
                        self.update_cell(key, column, cell, update_width=True)
            return
        selected = self.selected_key
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._keys = keys
        if selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False)


def plain(cell: Cell) -> Text:
    return Text(cell, end="") if isinstance(cell, str) else cell
