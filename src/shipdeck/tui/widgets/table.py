"""A DataTable whose rows are keyed: refreshed in place, keeping the cursor on its row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from shipdeck.tui import keymap
from shipdeck.tui.widgets.virtual_table import Cell as Cell
from shipdeck.tui.widgets.virtual_table import Column as Column
from shipdeck.tui.widgets.virtual_table import Row as Row
from shipdeck.tui.widgets.virtual_table import shown


class KeyedTable(DataTable[Cell]):
    DEFAULT_CSS = """
    KeyedTable { height: auto; max-height: 100%; background: $surface; }
    KeyedTable > .datatable--header { background: $surface; color: $foreground 60%; }
    KeyedTable:blur > .datatable--cursor { background: $surface; text-style: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings("list.down", "list.up", "list.first", "list.last", "open")
    )

    follow_top = False
    """A list newest first: with the cursor on the first row, new rows arriving above keep
    it on the (new) first row, instead of on its row pushed down out of view."""

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
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

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=self.row_count - 1)

    @property
    def selected_key(self) -> str | None:
        if not self._keys or not 0 <= self.cursor_row < len(self._keys):
            return None
        return self._keys[self.cursor_row]

    def set_rows(self, rows: Sequence[Row]) -> None:
        self._ensure_columns()
        # DataTable reads a str cell as markup: runner text ('[/tmp/x]' in a failure reason, a
        # description with brackets) would be mangled or raise. Cells are shown as written.
        rows = [(key, [plain(cell) for cell in cells]) for key, cells in rows]
        keys = [key for key, _ in rows]
        columns = [key for key, _ in self._column_spec]
        if keys == self._keys:
            changed: set[str] = set()
            for key, cells in rows:
                for column, cell in zip(columns, cells, strict=True):
                    if self.get_cell(key, column) != cell:
                        self.update_cell(key, column, cell, update_width=True)
                        changed.add(column)
            self._fit_columns([column for column in columns if column in changed], rows)
            return
        selected = self.selected_key
        at_top = self.follow_top and self.cursor_row == 0
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._keys = keys
        self._fit_columns(columns, rows)
        if at_top:
            self.move_cursor(row=0, animate=False)
            self.scroll_home(animate=False, immediate=True)
        elif selected in keys:
            self.move_cursor(row=keys.index(selected), animate=False)

    def _fit_columns(self, columns: list[str], rows: Sequence[Row]) -> None:
        """Size these columns to their widest cell now, as DataTable does only on its next idle:
        a frame drawn before that caches its cells at the old widths until the table next
        changes (header and rows cut, only the rows the cursor leaves or enters drawn wide
        again). The width set here is the one that idle then measures, so none changes."""
        console = self.app.console
        positions = {key: index for index, (key, _) in enumerate(self._column_spec)}
        for key in columns:
            column = self.columns.get(ColumnKey(key))
            if column is None or not column.auto_width:
                continue
            index = positions[key]
            widths = [measure(console, cells[index], 1) for _, cells in rows if index < len(cells)]
            column.content_width = max([measure(console, column.label, 1), *widths])

    def on_show(self) -> None:
        # Hidden (another tab), the cursor row is scrolled to as if nothing fit on screen;
        # shown again, a cursor that fits under the first row goes back to the top.
        self.call_after_refresh(self._settle_scroll)

    def _settle_scroll(self) -> None:
        rows = self.scrollable_content_region.height - (1 if self.show_header else 0)
        if self.scroll_offset.y > 0 and self.cursor_row < rows:
            self.scroll_home(animate=False, immediate=True)

    @property
    def rows_above(self) -> int:
        """Rows scrolled out of view above (in a list newest first: newer ones)."""
        return min(round(self.scroll_offset.y), len(self._keys))


def plain(cell: Cell) -> Text:
    """A cell as text, never markup, and never a control sequence (see virtual_table.shown)."""
    cell = shown(cell)
    return Text(cell, end="") if isinstance(cell, str) else cell
