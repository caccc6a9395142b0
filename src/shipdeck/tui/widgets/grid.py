"""A keyed table whose columns can change with the data (metric columns, environments)."""

from __future__ import annotations

from collections.abc import Sequence

from shipdeck.tui.widgets.table import Column, KeyedTable, Row


class GridTable(KeyedTable):
    """KeyedTable plus `set_columns`: rebuilds only when the columns really changed."""

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(columns, id=id)
        self._shown_columns = list(columns)

    def set_columns(self, columns: Sequence[Column]) -> bool:
        """Replace the columns (dropping the rows); False when they were already these."""
        columns = list(columns)
        if columns == self._shown_columns:
            return False
        self._shown_columns = columns
        self._column_spec = columns
        self._keys = []
        self.clear(columns=True)
        for key, label in columns:
            self.add_column(label, key=key)
        return True

    def set_grid(self, columns: Sequence[Column], rows: Sequence[Row]) -> None:
        selected = self.selected_key
        if self.set_columns(columns):
            self.set_rows(rows)
            keys = [key for key, _ in rows]
            if selected in keys:
                self.move_cursor(row=keys.index(selected), animate=False)
        else:
            self.set_rows(rows)
