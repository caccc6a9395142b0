"""A keyed table that renders only the rows on screen (Textual's line API).

A DataTable measures and renders every cell of every row before its first frame; this table
asks for a row's cells only when the row is drawn (or measured), so the first frame of 1,000
rows costs what the ~30 visible ones cost. Column widths come from the header, the first
rows and every row drawn since; they only grow while the columns stay the same, so scrolling
never makes the columns jump back. Cells are left-aligned (a Text's `justify` is ignored, as
DataTable ignores it), so values line up with their deltas after them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shipdeck.logtext import visible
from shipdeck.tui import keymap

Cell = str | Text
Column = tuple[str, str]
"""A column: its key and its label."""
Row = tuple[str, Sequence[Cell]]
"""A row: its key and its cells."""
CellSource = Callable[[int], Sequence[Cell]]
"""The cells of the row at an index, in column order."""

MEASURED_ROWS = 100
"""Rows measured when rows are set (more are measured as they are drawn)."""
PADDING = 1
"""Spaces on each side of a cell."""


def _no_cells(index: int) -> Sequence[Cell]:
    return ()


def cell_width(cell: Cell) -> int:
    """Cells a cell takes on screen."""
    cell = shown(cell)
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def shown(cell: Cell) -> Cell:
    """A cell as it may reach the terminal: text from a runner (a param, a reason, a name
    recorded before such values were refused) never carries a control sequence."""
    if isinstance(cell, Text):
        if cell.plain.isprintable():
            return cell
        return Text(visible(cell.plain), style=cell.style, end="")
    return cell if cell.isprintable() else visible(cell)


class RowMessage(Message):
    def __init__(self, table: VirtualTable, row: int, key: str) -> None:
        super().__init__()
        self.table = table
        self.cursor_row = row
        self.key = key

    @property
    def control(self) -> VirtualTable:
        return self.table


class VirtualTable(ScrollView, can_focus=True):
    """Rows are keys plus a cell source; the cursor stays on its key across updates."""

    DEFAULT_CSS = """
    VirtualTable { height: auto; max-height: 100%; background: $surface; color: $foreground; }
    VirtualTable:focus { background-tint: $foreground 5%; }
    VirtualTable > .virtual-table--header { background: $surface; color: $foreground 60%;
        text-style: bold; }
    VirtualTable > .virtual-table--cursor { background: $surface; }
    VirtualTable:focus > .virtual-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"virtual-table--header", "virtual-table--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("list.down", "list.up", "list.first", "list.last", "open"),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=False, init=False)

    class RowHighlighted(RowMessage):
        """The cursor moved to another row."""

    class RowSelected(RowMessage):
        """enter (or a click on the cursor row)."""

    def __init__(
        self,
        columns: Sequence[Column] = (),
        *,
        fixed_columns: int = 0,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._columns: list[Column] = list(columns)
        self.fixed_columns = fixed_columns
        self._keys: list[str] = []
        self._source: CellSource = _no_cells
        self._cells: dict[int, Sequence[Cell]] = {}
        self._strips: dict[int, Strip] = {}
        self._widths: list[int] = [cell_len(label) for _, label in self._columns]

    # Data.

    @property
    def keys(self) -> list[str]:
        return self._keys

    @property
    def columns(self) -> list[Column]:
        return self._columns

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def selected_key(self) -> str | None:
        if 0 <= self.cursor_row < len(self._keys):
            return self._keys[self.cursor_row]
        return None

    def cells(self, index: int) -> Sequence[Cell]:
        cells = self._cells.get(index)
        if cells is None:
            cells = self._cells[index] = self._source(index)
            self._measure(cells)
        return cells

    def get_cell(self, key: str, column: str) -> Cell:
        """The cell of row `key` in column `column` (KeyError for an unknown one)."""
        row = self._keys.index(key) if key in self._keys else -1
        names = [name for name, _ in self._columns]
        if row < 0 or column not in names:
            raise KeyError((key, column))
        return self.cells(row)[names.index(column)]

    def set_rows(
        self,
        columns: Sequence[Column],
        keys: Sequence[str],
        source: CellSource,
        *,
        fixed_columns: int | None = None,
    ) -> None:
        """Show `keys`, whose cells `source` gives by index; the cursor keeps its key."""
        selected = self.selected_key
        columns = list(columns)
        if columns != self._columns:
            self._columns = columns
            self._widths = [cell_len(label) for _, label in columns]
        if fixed_columns is not None:
            self.fixed_columns = fixed_columns
        self._keys = list(keys)
        self._source = source
        self._cells = {}
        self._strips = {}
        for index in range(min(MEASURED_ROWS, len(self._keys))):
            self.cells(index)
        row = self._keys.index(selected) if selected in self._keys else self.cursor_row
        row = max(0, min(row, len(self._keys) - 1))
        self._update_size()
        if row != self.cursor_row:
            self.cursor_row = row
        else:
            self._scroll_to_cursor()
        self.refresh()

    def set_static_rows(self, columns: Sequence[Column], rows: Sequence[Row]) -> None:
        """Rows already built: (key, cells)."""
        self.set_rows(columns, [key for key, _ in rows], lambda index: rows[index][1])

    def _measure(self, cells: Sequence[Cell]) -> None:
        widths = self._widths
        grew = False
        for position, cell in enumerate(cells[: len(widths)]):
            width = cell_width(cell)
            if width > widths[position]:
                widths[position] = width
                grew = True
        if grew:
            self._strips = {}
            self._update_size()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The rows, plus the horizontal scrollbar a wide table will get: counted from the
        first layout, so the table's height (and its neighbours', charts that are costly to
        draw) does not change again once the scrollbar shows."""
        height = self.virtual_size.height
        if (
            not self.show_horizontal_scrollbar
            and self.styles.overflow_x == "auto"
            and self.virtual_size.width > width
        ):
            height += self.styles.scrollbar_size_horizontal
        return height

    def _update_size(self) -> None:
        width = sum(self._widths) + 2 * PADDING * len(self._widths)
        self.virtual_size = Size(width, len(self._keys) + 1)

    # Cursor.

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowHighlighted(self, new, key))

    def _scroll_to_cursor(self) -> None:
        """Keep the cursor row between the header and the bottom edge."""
        rows = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + rows:
            self.scroll_to(y=row - rows + 1, animate=False, immediate=True)

    def move_cursor(self, row: int) -> None:
        if self._keys:
            self.cursor_row = max(0, min(row, len(self._keys) - 1))

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._page())

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._page())

    def action_first_row(self) -> None:
        self.move_cursor(0)

    def action_last_row(self) -> None:
        self.move_cursor(len(self._keys) - 1)

    def action_open(self) -> None:
        self.action_select_cursor()

    def action_select_cursor(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowSelected(self, self.cursor_row, key))

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    async def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = self.scroll_offset.y + offset.y - 1
        if not 0 <= row < len(self._keys):
            return
        if row == self.cursor_row:
            self.action_select_cursor()
        else:
            self.cursor_row = row

    # Rendering.

    def _row_strip(self, index: int) -> Strip:
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = self._line(self.cells(index))
        return strip

    def _line(self, cells: Sequence[Cell]) -> Strip:
        line = Text(no_wrap=True, end="")
        pad = " " * PADDING
        for raw, width in zip(cells, self._widths, strict=False):
            cell = shown(raw)
            line.append(pad)
            if isinstance(cell, Text):
                line.append_text(cell)
            else:
                line.append(cell)
            line.append(" " * (width - cell_width(cell)) + pad)
        return Strip(list(line.render(self.app.console)))

    def _header_strip(self) -> Strip:
        return self._line([Text(label) for _, label in self._columns])

    def _fixed_width(self) -> int:
        fixed = self._widths[: self.fixed_columns]
        return sum(fixed) + 2 * PADDING * len(fixed)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            strip = self._header_strip()
            style = base + self.get_component_rich_style("virtual-table--header", partial=True)
        else:
            row = scroll_y + y - 1
            if row >= len(self._keys):
                return Strip.blank(width, base)
            strip = self._row_strip(row)
            style = base
            if row == self.cursor_row:
                style = base + self.get_component_rich_style("virtual-table--cursor", partial=True)
        fixed = min(self._fixed_width(), width)
        if scroll_x and fixed < width:
            strip = Strip.join(
                [strip.crop(0, fixed), strip.crop(fixed + scroll_x, scroll_x + width)]
            )
        # The row's style goes under each cell's own: coloured deltas keep their colour.
        return strip.apply_style(style).crop_extend(0, width, style)

    def notify_style_update(self) -> None:
        """A theme change: cells are built again (theirs are the palette's colours)."""
        super().notify_style_update()
        self._cells = {}
        self._strips = {}
