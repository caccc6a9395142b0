"""Timeline (on-call): runs, schedule fires, alerts, deploy actions, alias moves and health
from every runner in one time-ordered list; filter by words (kind, service, runner), `K` kind,
`w` window; enter jumps (a run to its view, an alert to its monitor)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import DataTable, Static

from shipdeck.formatting import format_age, plural
from shipdeck.runners.protocol import Runner
from shipdeck.tui.format import clip, clip_name, glyph
from shipdeck.tui.keymap import bindings
from shipdeck.tui.palette import Palette
from shipdeck.tui.view_data.timeline import (
    WINDOWS,
    ItemKind,
    TimelineItem,
    in_window,
    load_timeline,
    matches,
    sort_items,
)
from shipdeck.tui.views.filter import FilterInput
from shipdeck.tui.views.fleet_view import FleetView
from shipdeck.tui.widgets.grid import GridTable
from shipdeck.tui.widgets.table import Cell

KINDS: list[ItemKind | None] = [None, *ItemKind]
DEFAULT_WINDOW = 2
"""24h."""
SHOWN = 500

STATUS_GLYPH = {
    "started": "▸",
    "refused": "⊘",
    "conflict": "≠",
    "alerting": "⚠",
    "acked": "✎",
    "closed": "✓",
}
LOUD_STATUSES = frozenset({"failed", "refused", "conflict", "interrupted", "alerting"})


class TimelineTable(GridTable):
    """enter jumps to what the item is about; at the top, it stays on the newest item."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings("timeline.open"))
    follow_top = True

    def action_open_item(self) -> None:
        self.action_select_cursor()


class TimelineView(FleetView[list[TimelineItem]]):
    DEFAULT_CSS = """
    TimelineView { height: 1fr; }
    TimelineView KeyedTable { height: 1fr; max-height: 1fr; }
    TimelineView .view-status { height: 1; padding: 0 1; color: $foreground 70%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = list(
        bindings("timeline.window", "timeline.kind", "filter")
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.window_index = DEFAULT_WINDOW
        self.kind_index = 0
        self.shown: dict[str, TimelineItem] = {}
        self._shown_count = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="timeline-status", classes="view-status")
        yield TimelineTable([("when", "when")], id="timeline-table")
        yield FilterInput(placeholder="filter: kind, service, runner, words", id="timeline-filter")

    async def load(self, index: int, runner: Runner) -> list[TimelineItem]:
        return await load_timeline(index, runner)

    def focus_table(self) -> None:
        self.query_one(GridTable).focus()

    @property
    def kind(self) -> ItemKind | None:
        return KINDS[self.kind_index]

    def items(self, now: datetime) -> list[TimelineItem]:
        app = self.cockpit
        window = WINDOWS[self.window_index][1]
        merged = sort_items([item for _, items in self.answered() for item in items])
        return [
            item
            for item in merged
            if in_window(item, now, window)
            and (self.kind is None or item.kind == self.kind)
            and matches(item, self.filter_words, app.runners[item.runner].name)
        ][:SHOWN]

    def paint(self) -> None:
        app = self.cockpit
        palette = app.palette
        now = app.clock()
        items = self.items(now)
        self.shown = {item.key: item for item in items}
        rows = [(item.key, self._cells(item, palette, now)) for item in items]
        columns = [("runner", "runner")] if self.many else []
        columns += [("when", "when"), ("kind", "kind"), ("what", "what"), ("who", "who")]
        self.query_one(GridTable).set_grid(columns, rows)
        self._shown_count = len(items)
        self._paint_status()
        # Scrolling follows the cursor on the next refresh: count what it hides then.
        self.call_after_refresh(self._paint_status)

    def _cells(self, item: TimelineItem, palette: Palette, now: datetime) -> list[Cell]:
        cells: list[Cell] = []
        if self.many:
            cells.append(clip_name(self.cockpit.runners[item.runner].name))
        when = f"{item.at:%H:%M} {format_age(item.at, now).removesuffix(' ago'):>4}"
        cells.append(Text(when, style=palette.muted, no_wrap=True))
        cells.append(item.kind.value)
        mark = STATUS_GLYPH.get(item.status) or glyph(item.status)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{mark} ", style=palette.status(_status_colour(item.status)))
        text.append(clip(item.text, 60))
        if item.status in LOUD_STATUSES:
            text.stylize(palette.status("failed"), 2)
        cells.append(text)
        cells.append(clip(item.who.split("@", 1)[0], 10))
        return cells

    def _paint_status(self) -> None:
        if not self.is_mounted:
            return
        palette = self.cockpit.palette
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        newer = self.query_one(GridTable).rows_above
        if newer:
            text.append(f" {newer} newer ↑ ", style="reverse bold")
        text.append(f" last {WINDOWS[self.window_index][0]}", style="bold")
        text.append(f"  {self.kind.value if self.kind else 'all kinds'}", style="bold")
        text.append(f"  {plural(self._shown_count, 'event')}", style=palette.muted)
        if self.filter_words:
            text.append(f"  /{' '.join(self.filter_words)}", style="bold")
        self.query_one("#timeline-status", Static).update(self.with_runners(text))

    # Actions.

    def action_cycle_window(self) -> None:
        self.window_index = (self.window_index + 1) % len(WINDOWS)
        self.paint()

    def action_cycle_kind(self) -> None:
        self.kind_index = (self.kind_index + 1) % len(KINDS)
        self.paint()

    def selected_item(self) -> TimelineItem | None:
        key = self.query_one(GridTable).selected_key
        return self.shown.get(key) if key else None

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        self.action_open_item()

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        if self.parts:
            self.call_after_refresh(self._paint_status)

    def action_open_item(self) -> None:
        from shipdeck.tui.screens.env_history import EnvHistoryScreen

        item = self.selected_item()
        if item is None or item.target is None:
            return
        app = self.cockpit
        target = item.target
        if target.kind == "run" and target.run_id is not None:
            app.nav.switch_runner(item.runner)
            app.nav.open_run(target.run_id)
        elif target.kind == "env":
            self.app.push_screen(EnvHistoryScreen(item.runner, target.service, target.env))
        elif target.kind == "model":
            app.nav.action_switch_view("models")
        elif target.kind == "monitor":
            self.run_worker(self._open_monitor(item.runner, target.monitor), group="open")

    async def _open_monitor(self, index: int, name: str) -> None:
        from shipdeck.tui.screens.monitor_detail import MonitorScreen

        app = self.cockpit
        try:
            listed = await app.runners[index].monitors()
        except Exception as error:  # offline or refused: say so, stay here
            self.notify(f"monitor {name}: {error}", severity="error")
            return
        info = next((m for m in listed if m.name == name), None)
        if info is None:
            self.notify(f"monitor {name} is no longer declared", severity="warning")
            return
        app.nav.switch_runner(index)
        self.app.push_screen(MonitorScreen(index, info))


def _status_colour(status: str) -> str:
    if status in ("started",):
        return "running"
    if status in ("refused", "conflict"):
        return "cancelled"
    if status == "alerting":
        return "failed"
    if status == "closed":
        return "succeeded"
    if status == "acked":
        return "skipped"
    return status
