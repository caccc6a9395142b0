"""VirtualTable: the cursor moves and stays visible while scrolling, keeps its key across
updates, rows are built only when drawn, fixed columns stay when scrolling right."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import App, ComposeResult

from shipdeck.tui.widgets.virtual_table import Cell, VirtualTable

COLUMNS = [("name", "name"), ("value", "value"), ("wide", "wide")]


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.built: list[int] = []
        self.selected: list[str] = []
        self.highlighted: list[str] = []

    def compose(self) -> ComposeResult:
        yield VirtualTable(COLUMNS, fixed_columns=1, id="table")

    def source(self, keys: Sequence[str]) -> object:
        def cells(index: int) -> Sequence[Cell]:
            self.built.append(index)
            return [keys[index], Text(f"{index * 1.5:.1f}", style="red"), "x" * 60]

        return cells

    def show(self, keys: Sequence[str]) -> None:
        table = self.query_one(VirtualTable)
        table.set_rows(COLUMNS, keys, self.source(keys))  # type: ignore[arg-type]

    def on_virtual_table_row_selected(self, message: VirtualTable.RowSelected) -> None:
        self.selected.append(message.key)

    def on_virtual_table_row_highlighted(self, message: VirtualTable.RowHighlighted) -> None:
        self.highlighted.append(message.key)


def screen_text(app: App[None], y: int) -> str:
    table = app.query_one(VirtualTable)
    return table.render_line(y).text


async def test_cursor_moves_and_stays_visible() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        keys = [f"row{i:04d}" for i in range(1000)]
        app.show(keys)
        table = app.query_one(VirtualTable)
        table.focus()
        await pilot.pause()
        assert table.row_count == 1000
        assert len(set(app.built)) < 150  # measured and drawn rows only, not all 1,000
        assert screen_text(app, 0).split()[:2] == ["name", "value"]  # the header
        assert screen_text(app, 1).split()[0] == "row0000"

        await pilot.press("j", "down", "j")
        assert table.cursor_row == 3 and table.selected_key == "row0003"
        assert app.highlighted[-1] == "row0003"
        await pilot.press("k")
        assert table.selected_key == "row0002"

        await pilot.press("end")
        assert table.selected_key == "row0999"
        height = table.scrollable_content_region.height
        assert screen_text(app, height - 1).split()[0] == "row0999"  # the last line shows it
        assert 990 in app.built and 500 not in app.built  # rows in between never built

        await pilot.press("pageup")
        top = table.scroll_offset.y
        assert top <= table.cursor_row < top + height - 1

        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_offset.y == 0
        await pilot.press("enter")
        assert app.selected == ["row0000"]


async def test_cursor_keeps_its_key_and_fixed_columns_stay() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        app.show([f"row{i}" for i in range(20)])
        table = app.query_one(VirtualTable)
        table.focus()
        await pilot.press("j", "j", "j")
        assert table.selected_key == "row3"
        app.show([f"row{i}" for i in reversed(range(20))])  # a new order (a sort)
        assert table.selected_key == "row3" and table.cursor_row == 16
        app.show(["row1", "row2"])  # the cursor's row filtered away: clamped
        assert table.cursor_row == 1
        await pilot.pause()

        cell = table.get_cell("row2", "value")
        assert isinstance(cell, Text) and cell.plain == "1.5"
        table.scroll_to(x=20, animate=False, immediate=True)
        await pilot.pause()
        line = screen_text(app, 2)
        assert line.startswith(" row2 ")  # the fixed key column stays
        assert "1.5" not in line  # the scrolled column went left
        styles = [s.style for s in table.render_line(2) if s.text.strip() == "row2"]
        assert styles  # and the cursor row keeps its cells' colours under its style


async def test_empty_table_and_click() -> None:
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(VirtualTable)
        app.show([])
        await pilot.press("j", "enter")
        assert table.selected_key is None and app.selected == []
        app.show(["a", "b", "c"])
        await pilot.click(VirtualTable, offset=(2, 2))  # line 0 is the header, then a, b
        assert table.selected_key == "b"
        await pilot.click(VirtualTable, offset=(2, 2))
        assert app.selected == ["b"]


async def test_a_control_sequence_in_a_cell_never_reaches_the_terminal() -> None:
    """A param or reason stored before such values were refused, or text from another engine,
    shows as its visible text: no window title, no screen clear."""
    app = TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(VirtualTable)
        hostile = "x\x1b]0;pwned\x07\x1b[2Jy"

        def cells(index: int) -> Sequence[Cell]:
            return [hostile, Text("a\x1b[2Jb", style="red"), "z"]

        table.set_rows(COLUMNS, ["k"], cells)  # type: ignore[arg-type]
        await pilot.pause()
        line = table.render_line(1)
        assert not any("\x1b" in segment.text or "\x07" in segment.text for segment in line)
        assert "xy" in line.text and "ab" in line.text
