"""Runs: every recorded run of every runner, newest first, a page at a time.

The `/` filter is applied by the runner (a status word such as `failed`, other words matched
against the run's number, pipeline, params, trigger, user and tasks' reasons), so it finds
runs however old; the list fetches the next page as the cursor nears its end, and says how
many of how many runs it holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from shipdeck.formatting import format_age, format_duration, plural
from shipdeck.model import Run, RunStatus
from shipdeck.model.ids import run_label
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.fleet import Part
from shipdeck.tui.format import STATUS_WORD, clip, clip_name, run_elapsed
from shipdeck.tui.views.filter import FilterInput
from shipdeck.tui.views.fleet_runs import fleet_key
from shipdeck.tui.views.fleet_view import FleetView
from shipdeck.tui.widgets.grid import GridTable
from shipdeck.tui.widgets.table import Cell, Column, Row
from shipdeck.tui.widgets.virtual_table import cell_width

PAGE = 100
"""Runs asked for at a time."""
MAX_KEPT = 1000
"""Runs a reload asks for at most (the runner's limit per request)."""
AHEAD = 20
"""Rows before the end of the list at which the next page is fetched."""
STATUS_WORDS: dict[str, RunStatus] = {
    **{status.value: status for status in RunStatus},
    STATUS_WORD[RunStatus.SUCCEEDED.value]: RunStatus.SUCCEEDED,
}
"""Filter words that mean a status (`ok` is how the list shows succeeded)."""

Query = tuple[RunStatus | None, str]


def runner_query(words: list[str]) -> Query:
    """The runner's filters for the `/` words: the first status word is the status, the
    rest are matched as text."""
    status = next((STATUS_WORDS[w] for w in words if w in STATUS_WORDS), None)
    rest = list(words)
    if status is not None:
        rest.remove(next(w for w in words if STATUS_WORDS.get(w) == status))
    return status, " ".join(rest)


@dataclass(frozen=True)
class RunsList:
    """One runner's runs as far as they have been paged in, for the query they answer."""

    query: Query
    runs: list[Run]
    total: int
    exact: bool = True
    """False for a runner that cannot count (MLflow): `total` is then those listed and one
    more while more follow."""

    @property
    def more(self) -> bool:
        return len(self.runs) < self.total


ORIGIN_MIN = 6
"""Cells the origin keeps however narrow the screen (`after…`)."""
EDGE = 2
"""Cells kept clear at the right edge: the vertical scrollbar, once the list is long."""


def _origin(run: Run) -> str:
    """What started the run, with the names in it clipped as the name columns are."""
    if run.parent_id is None:
        upstream = run.cause.upstream_pipeline if run.cause is not None else None
        if upstream:
            return run.trigger.replace(upstream, clip_name(upstream), 1)
        return run.trigger
    mode = run.rerun_mode.value if run.rerun_mode else "all"
    if run.rerun_from:
        mode = f"from {clip_name(run.rerun_from)}"
    return f"rerun {run_label(run.parent_id)} {mode}"


COLUMNS = [
    ("run", "run"),
    ("pipeline", "pipeline"),
    ("status", "status"),
    ("tasks", "tasks"),
    ("started", "started"),
    ("duration", "took"),
    ("origin", "origin"),
]


class RunsTable(GridTable):
    follow_top = True


def fit_last_column(table: GridTable, columns: list[Column], rows: list[Row]) -> list[Row]:
    """The rows with their last cell (the origin) clipped, with an ellipsis, to the room the
    other columns leave on the table's width: never cut off by the screen's edge."""
    width = table.size.width or table.app.size.width
    pad = 2 * table.cell_padding
    used = 0
    for index, (key, label) in enumerate(columns[:-1]):
        shown = table.columns.get(ColumnKey(key))
        widest = max([cell_len(label), *(cell_width(cells[index]) for _, cells in rows)])
        used += pad + max(widest, shown.content_width if shown is not None else 0)
    room = max(ORIGIN_MIN, width - EDGE - used - pad)
    return [(key, [*cells[:-1], clip(str(cells[-1]), room)]) for key, cells in rows]


class RunsView(FleetView[RunsList]):
    DEFAULT_CSS = """
    RunsView { height: 1fr; }
    RunsView KeyedTable { height: 1fr; max-height: 1fr; }
    RunsView .view-status { height: 1; padding: 0 1; color: $foreground 70%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings("runs.filter", "runs.clear-filter")
    )

    def compose(self) -> ComposeResult:
        yield Static("", id="runs-status", classes="view-status")
        yield RunsTable(COLUMNS, id="runs-table")
        yield FilterInput(
            placeholder="filter runs: words such as train failed #12 env=prod", id="runs-filter"
        )

    def query_for(self, index: int) -> Query:
        """The filter words for one runner: with several, words in its name are not sent
        (`lab failed` lists lab's failed runs)."""
        name = self.cockpit.runners[index].name.lower() if self.many else ""
        return runner_query([w for w in self.filter_words if not (name and w in name)])

    async def load(self, index: int, runner: Runner) -> RunsList:
        """The newest runs for the current filter: as many as were paged in already."""
        query = self.query_for(index)
        have = self._current(index)
        limit = min(MAX_KEPT, max(PAGE, len(have.runs) if have is not None else 0))
        status, text = query
        page = await runner.runs_page(status=status, text=text or None, limit=limit)
        return RunsList(query, page.runs, page.total, page.exact)

    def _current(self, index: int) -> RunsList | None:
        """A runner's list if it answers the filter shown now (else it is being reloaded)."""
        part = self.parts.get(index)
        data = part.data if part is not None else None
        return data if data is not None and data.query == self.query_for(index) else None

    def set_filter(self, text: str) -> None:
        super().set_filter(text)
        self.reload()

    def apply_filter(self, words: list[str]) -> None:
        changed = words != self.filter_words
        super().apply_filter(words)
        if changed:
            self.reload()

    def action_clear_filter(self) -> None:
        self.close_filter()

    def focus_table(self) -> None:
        self.query_one(GridTable).focus()

    # Paging.

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        table = self.query_one(GridTable)
        if message.data_table is table and message.cursor_row >= table.row_count - AHEAD:
            self.fetch_more()
        self.call_after_refresh(self._paint_status)

    def fetch_more(self) -> None:
        """The next page of every runner that has more runs than it listed."""
        for index in range(len(self.cockpit.runners)):
            listed = self._current(index)
            if listed is not None and listed.more and listed.runs:
                self.run_worker(
                    self._more(index, listed), group=f"runs-more-{index}", exclusive=True
                )

    async def _more(self, index: int, listed: RunsList) -> None:
        app = self.cockpit
        status, text = listed.query
        before = listed.runs[-1].id
        page = await app.call(
            "Loading runs",
            lambda: app.runners[index].runs_page(
                status=status, text=text or None, limit=PAGE, before=before
            ),
        )
        now = self._current(index)
        if page is None or now is None or not now.runs or now.runs[-1].id != before:
            return  # reloaded meanwhile: that answer stands
        runs = [*now.runs, *page.runs]
        if now.exact:
            grown = RunsList(now.query, runs, now.total)
        else:  # this page's total says only whether more follow
            more = page.total > len(page.runs)
            grown = RunsList(now.query, runs, len(runs) + more, not more)
        self.parts[index] = Part(index, app.runners[index].name, data=grown)
        self.paint()

    # Painting.

    def find(self, index: int, run_id: str) -> Run | None:
        listed = self._current(index)
        runs = listed.runs if listed is not None else []
        return next((run for run in runs if run.id == run_id), None)

    def paint(self) -> None:
        app = self.cockpit
        palette = app.palette
        now = app.clock()
        many = self.many
        lists = [(i, data) for i in range(len(app.runners)) if (data := self._current(i))]
        entries = [(index, run) for index, listed in lists for run in listed.runs]
        if many:
            entries.sort(key=lambda entry: entry[1].created_at, reverse=True)
        rows: list[Row] = []
        for index, run in entries:
            cells: list[Cell] = [clip_name(app.runners[index].name)] if many else []
            cells += [
                run.label,
                clip_name(run.pipeline),
                palette.badge(run.status, STATUS_WORD.get(run.status.value, run.status)),
                f"{run.tasks_done}/{run.tasks_total}",
                format_age(run.started_at or run.created_at, now),
                format_duration(run_elapsed(run, now)),
                _origin(run),
            ]
            rows.append((fleet_key(index, run.id) if many else str(run.id), cells))
        columns = [("runner", "runner"), *COLUMNS] if many else COLUMNS
        table = self.query_one(GridTable)
        table.set_grid(columns, fit_last_column(table, columns, rows))
        self._listed = (len(rows), sum(listed.total for _, listed in lists))
        self._exact = all(listed.exact for _, listed in lists)
        self._paint_status()
        self.call_after_refresh(self._paint_status)

    def on_resize(self) -> None:
        if self.parts:
            self.paint()

    _listed = (0, 0)
    """Rows shown, and how many runs match in all."""
    _exact = True
    """Whether that count is exact (not when a runner cannot count)."""

    def _pending(self) -> bool:
        """A runner has not answered the filter shown yet (nor failed to)."""
        return any(
            self._current(index) is None and not (part is not None and part.error)
            for index in range(len(self.cockpit.runners))
            for part in [self.parts.get(index)]
        )

    def _paint_status(self) -> None:
        if not self.is_mounted:
            return
        palette = self.cockpit.palette
        shown, total = self._listed
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        newer = self.query_one(GridTable).rows_above
        if newer:
            text.append(f" {newer} newer ↑ ", style="reverse bold")
        if self._pending() and not shown:
            text.append(" loading…", style=palette.muted)
        elif self.filter_words and total == 0:
            text.append(" no run matches", style="bold")
        else:
            if self._exact:
                text.append(f" {shown:,} of {plural(total, 'run')}", style="bold")
            else:  # a runner that cannot count: how many it has is not known
                text.append(f" {shown:,} of {max(total - 1, shown):,}+ runs", style="bold")
            if self._pending():
                text.append(" …", style=palette.muted)
        if self.filter_words:
            text.append(f"  /{' '.join(self.filter_words)}", style="bold")
        self.query_one("#runs-status", Static).update(self.with_runners(text))
