"""Runs: the latest runs of every pipeline, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical

from shipdeck.model import Run
from shipdeck.tui import keymap
from shipdeck.tui.fleet_runs import Source, fleet_key
from shipdeck.tui.format import (
    STATUS_WORD,
    clip_name,
    format_age,
    format_duration,
    run_elapsed,
)
from shipdeck.tui.palette import Palette
from shipdeck.tui.screens.shared_filter import FilterableView, FilterInput
from shipdeck.tui.widgets.grid import GridTable
from shipdeck.tui.widgets.table import Cell


def _origin(run: Run) -> str:
    if run.parent_id is None:
        return run.trigger
    mode = run.rerun_mode.value if run.rerun_mode else "all"
    if run.rerun_from:
        mode = f"from {run.rerun_from}"
    return f"rerun #{run.parent_id} {mode}"


def _matches(run: Run, words: list[str]) -> bool:
    text = f"#{run.id} {run.pipeline} {run.status.value} {_origin(run)} {run.user}".lower()
    return all(word in text for word in words)


COLUMNS = [
    ("run", "run"),
    ("pipeline", "pipeline"),
    ("status", "status"),
    ("tasks", "tasks"),
    ("started", "started"),
    ("duration", "took"),
    ("origin", "origin"),
]


class RunsView(FilterableView, Vertical):
    DEFAULT_CSS = """
    RunsView { height: 1fr; }
    RunsView KeyedTable { max-height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings("runs.filter", "runs.clear-filter")
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter_words: list[str] = []
        self._last: tuple[list[Source], Palette, datetime, bool] | None = None

    def compose(self) -> ComposeResult:
        yield GridTable(COLUMNS, id="runs-table")
        yield FilterInput(
            placeholder="filter runs: words such as train failed #12", id="runs-filter"
        )

    def action_clear_filter(self) -> None:
        self.close_filter()

    def paint(self) -> None:
        if self._last is not None:
            self.update(*self._last)

    def focus_table(self) -> None:
        self.query_one(GridTable).focus()

    def update(
        self, sources: list[Source], palette: Palette, now: datetime, many: bool = False
    ) -> None:
        """The active runner's runs; with several runners, every runner's, newest first."""
        self._last = (sources, palette, now, many)
        entries = [(source, run) for source in sources for run in source.snapshot.runs]
        if many:
            entries.sort(key=lambda entry: entry[1].created_at, reverse=True)
        rows: list[tuple[str, list[Cell]]] = []
        for source, run in entries:
            name = source.name if many else ""
            if not _matches(run, [w for w in self.filter_words if w not in name.lower()]):
                continue
            cells: list[Cell] = [clip_name(name)] if many else []
            cells += [
                f"#{run.id}",
                clip_name(run.pipeline),
                palette.badge(run.status, STATUS_WORD.get(run.status.value, run.status)),
                f"{run.tasks_done}/{run.tasks_total}",
                format_age(run.started_at or run.created_at, now),
                format_duration(run_elapsed(run, now)),
                _origin(run),
            ]
            rows.append((fleet_key(source.index, run.id) if many else str(run.id), cells))
        columns = [("runner", "runner"), *COLUMNS] if many else COLUMNS
        self.query_one(GridTable).set_grid(columns, rows)
