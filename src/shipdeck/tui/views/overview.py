"""Overview: open alerts first, then recent failures, runs in progress, and every pipeline's
history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import Static

from shipdeck.formatting import format_age, format_duration, plural
from shipdeck.model import FailureStreak, Run, RunDetail, RunStatus, TaskStatus
from shipdeck.tui import keymap
from shipdeck.tui.format import clip, clip_name, progress_bar, run_elapsed
from shipdeck.tui.palette import Palette
from shipdeck.tui.view_data.failure_cause import failure_cause
from shipdeck.tui.view_data.snapshot import STRIP_RUNS
from shipdeck.tui.views.filter import FilterableView, FilterInput
from shipdeck.tui.views.fleet_runs import Source, fleet_key, pipeline_key
from shipdeck.tui.widgets.grid import GridTable
from shipdeck.tui.widgets.table import Cell, Column, KeyedTable, Row


def _running_tasks(detail: RunDetail | None) -> str:
    if detail is None:
        return ""
    names = [t.name for t in detail.tasks if t.status in (TaskStatus.RUNNING, TaskStatus.RETRYING)]
    return ", ".join(names)


def _queued_behind(run: Run, active: list[Run]) -> str:
    """A queued run waits for its pipeline's `concurrency` slot: say for which run."""
    ahead = [
        other
        for other in active
        if other.pipeline == run.pipeline and other.created_at < run.created_at
    ]
    if not ahead:
        return "queued"
    return f"queued behind {max(ahead, key=lambda other: other.created_at).label}"


def strip(runs: list[Run], palette: Palette, width: int = STRIP_RUNS) -> Text:
    """Oldest on the left, newest on the right, padded on the left to a fixed width."""
    text = Text(no_wrap=True, end="")
    text.append("·" * max(0, width - len(runs)), style=palette.muted)
    for run in reversed(runs[:width]):
        text.append_text(palette.badge(run.status))
    return text


def _failed_at(run: Run) -> datetime:
    return run.finished_at or run.created_at


def _line(streak: FailureStreak) -> str:
    """What failed: a pipeline, or a service's deploys to one environment."""
    env = streak.env
    return f"{streak.run.pipeline} {env}" if env else streak.run.pipeline


def _key(source: Source, many: bool, run: Run) -> str:
    return fleet_key(source.index, run.id) if many else str(run.id)


def _matches(words: list[str], *fields: str) -> bool:
    text = " ".join(fields).lower()
    return all(word in text for word in words)


FAILURE_COLUMNS = [
    ("run", "run"),
    ("pipeline", "pipeline"),
    ("times", ""),
    ("cause", "failed task"),
    ("age", ""),
]
RUNNING_COLUMNS = [
    ("run", "run"),
    ("pipeline", "pipeline"),
    ("progress", "progress"),
    ("elapsed", "elapsed"),
    ("tasks", "now running"),
]
PIPELINE_COLUMNS = [
    ("pipeline", "pipeline"),
    ("history", "last runs, newest right"),
    ("last", "last"),
    ("age", ""),
]
ALERT_COLUMNS = [
    ("alert", "alert"),
    ("monitor", "monitor"),
    ("threshold", "threshold"),
    ("value", "value"),
    ("age", ""),
]
RUNNER_COLUMN = ("runner", "runner")
ALERT_KEY = "alert:"
"""Row keys of the alerts (`alert:RUNNER:ID`): no run or pipeline key starts like this."""
LOADING = "loading…"
EMPTY = {"failures": "Nothing failing", "running": "Nothing running"}
FILTERED = {"failures": "No failures match", "running": "No running runs match"}
"""What an empty section says under a filter: never the all-clear, which the filter may hide."""
FAILURES_SHOWN = 8
ATTENTION = ("alerts", "failures", "running", "pipelines")
"""The sections in the order they need the operator's attention."""


class OverviewView(FilterableView, Vertical):
    """With several runners every section merges all of them, with a runner column, and row
    keys that name the runner (`1:14` for a run, `1/build` for a pipeline)."""

    DEFAULT_CSS = """
    OverviewView { height: 1fr; }
    OverviewView #overview-runners {
        height: auto; max-height: 5; display: none; text-wrap: nowrap; text-overflow: ellipsis;
    }
    OverviewView KeyedTable { max-height: 7; }
    OverviewView #overview-pipelines { height: 1fr; max-height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("filter"),
        keymap.ALL_BINDINGS["back"],
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.filter_words: list[str] = []
        self._last: tuple[list[Source], Palette, datetime, bool] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="overview-runners")
        yield Static("Alerts", classes="section-title", id="alerts-title")
        yield GridTable(ALERT_COLUMNS, id="overview-alerts")
        yield Static("Failures", classes="section-title", id="failures-title")
        yield Static(LOADING, classes="empty", id="failures-empty")
        yield GridTable(FAILURE_COLUMNS, id="overview-failures")
        yield Static("Running", classes="section-title", id="running-title")
        yield Static(LOADING, classes="empty", id="running-empty")
        yield GridTable(RUNNING_COLUMNS, id="overview-running")
        yield Static("Pipelines", classes="section-title", id="pipelines-title")
        yield GridTable(PIPELINE_COLUMNS, id="overview-pipelines")
        yield FilterInput(placeholder="filter: runner, pipeline, #run, task", id="overview-filter")

    def on_mount(self) -> None:
        for table in self.query(KeyedTable):
            table.show_header = table.id == "overview-pipelines"
        for alerts in (self.query_one("#alerts-title"), self.query_one("#overview-alerts")):
            alerts.display = False  # until an alert is open

    def update(
        self, sources: list[Source], palette: Palette, now: datetime, many: bool = False
    ) -> None:
        self._last = (sources, palette, now, many)
        words = self.filter_words
        self._alerts(sources, palette, now, many)
        streaks = [(source, streak) for source in sources for streak in source.snapshot.failures]
        streaks.sort(key=lambda pair: _failed_at(pair[1].run), reverse=True)
        failure_rows: list[Row] = []
        for source, streak in streaks:
            run = streak.run
            cause = failure_cause(run, source.snapshot.details.get(run.id))
            line = _line(streak)
            if not _matches(words, source.name if many else "", run.label, line, cause):
                continue
            cells: list[Cell] = [clip_name(source.name)] if many else []
            cells += [
                palette.badge(run.status, run.label),
                clip_name(line),
                Text(f"\u00d7{streak.count}" if streak.count > 1 else "", style=palette.muted),
                Text(clip(cause, 30), style=palette.status("failed")),
                format_age(_failed_at(run), now),
            ]
            failure_rows.append((_key(source, many, run), cells))
        self._fill("failures", FAILURE_COLUMNS, failure_rows[:FAILURES_SHOWN], many)

        running = [(source, run) for source in sources for run in source.snapshot.active]
        running.sort(key=lambda pair: pair[1].created_at, reverse=True)
        running_rows: list[Row] = []
        for source, run in running:
            tasks = _running_tasks(source.snapshot.details.get(run.id))
            if run.status == RunStatus.QUEUED:
                tasks = _queued_behind(run, source.snapshot.active)
            if not _matches(words, source.name if many else "", run.label, run.pipeline, tasks):
                continue
            cells = [clip_name(source.name)] if many else []
            cells += [
                palette.badge(run.status, run.label),
                clip_name(run.pipeline),
                f"{progress_bar(run.tasks_done, run.tasks_total, 8)} "
                f"{run.tasks_done}/{run.tasks_total}",
                format_duration(run_elapsed(run, now)),
                clip(tasks, 24),
            ]
            running_rows.append((_key(source, many, run), cells))
        self._fill("running", RUNNING_COLUMNS, running_rows, many)

        pipeline_rows: list[Row] = []
        for source in sources:
            for pipeline in source.snapshot.pipelines:
                if not _matches(words, source.name if many else "", pipeline.name):
                    continue
                runs = source.snapshot.history.get(pipeline.name, [])
                last = runs[0] if runs else None
                cells = [clip_name(source.name)] if many else []
                cells += [
                    clip_name(pipeline.name),
                    strip(runs, palette),
                    palette.badge(last.status, last.label) if last else "never run",
                    format_age(last.created_at, now) if last else "",
                ]
                key = pipeline_key(source.index, pipeline.name) if many else pipeline.name
                pipeline_rows.append((key, cells))
        self._grid("pipelines", PIPELINE_COLUMNS, pipeline_rows, many)
        title = "Pipelines" + (f"  /{' '.join(words)}" if words else "")
        self.query_one("#pipelines-title", Static).update(title)

    def _alerts(self, sources: list[Source], palette: Palette, now: datetime, many: bool) -> None:
        """Open alerts above the failures; the section is there only while some are open."""
        words = self.filter_words
        alerts = [(source, alert) for source in sources for alert in source.snapshot.alerts]
        alerts.sort(key=lambda pair: pair[1].since, reverse=True)
        rows: list[Row] = []
        for source, alert in alerts:
            if not _matches(words, source.name if many else "", alert.monitor, alert.threshold):
                continue
            cells: list[Cell] = [clip_name(source.name)] if many else []
            mark = Text(f"⚠ #{alert.id}", style=palette.status("failed"), no_wrap=True)
            if alert.acked_by is not None:
                mark.append(" ✓", style=palette.muted)
            cells += [
                mark,
                clip_name(alert.monitor),
                clip(alert.threshold, 24),
                f"{alert.last_value:.4g}",
                format_age(alert.since, now),
            ]
            rows.append((f"{ALERT_KEY}{source.index}:{alert.id}", cells))
        table = self._grid("alerts", ALERT_COLUMNS, rows, many)
        table.display = bool(rows)
        title = self.query_one("#alerts-title", Static)
        hidden = len(alerts) - len(rows)
        # Open alerts stay in sight under a filter: at least as a count of the hidden ones.
        title.update(
            f"Alerts: {plural(hidden, 'open alert')} hidden by the filter (esc clears it)"
            if hidden and not rows
            else "Alerts"
        )
        title.display = bool(alerts)

    def _grid(
        self, section: str, columns: Sequence[Column], rows: Sequence[Row], many: bool
    ) -> GridTable:
        table = self.query_one(f"#overview-{section}", GridTable)
        table.set_grid([RUNNER_COLUMN, *columns] if many else columns, rows)
        return table

    def _fill(
        self, section: str, columns: Sequence[Column], rows: Sequence[Row], many: bool
    ) -> None:
        table = self._grid(section, columns, rows, many)
        table.display = bool(rows)
        empty = self.query_one(f"#{section}-empty", Static)
        if self.filter_words:
            empty.update(f"{FILTERED[section]} /{' '.join(self.filter_words)} (esc clears it)")
        else:
            empty.update(EMPTY[section])
        empty.display = not rows

    def show_runners(self, lines: list[Text]) -> None:
        """With several runners: one line each (state, running, failures, last run)."""
        runners = self.query_one("#overview-runners", Static)
        runners.display = bool(lines)
        if lines:
            runners.update(Text("\n").join(lines))

    def paint(self) -> None:
        if self._last is not None:
            self.update(*self._last)

    def focus_table(self) -> None:
        self.focus_first()

    def _first_section(self) -> KeyedTable | None:
        """The first section with rows, in the order of ATTENTION."""
        for section in ATTENTION:
            table = self.query_one(f"#overview-{section}", KeyedTable)
            if table.row_count:
                return table
        return None

    def focus_first(self) -> None:
        """Focus what needs attention: the failures, else the runs in progress, ..."""
        table = self._first_section()
        if table is not None:
            # At once, not through focus()'s later callback: the rows are on screen now, and
            # until that callback ran the focus would be on a table they no longer lead.
            self.screen.set_focus(table)

    def attention(self) -> tuple[str, str] | None:
        """What needs attention first, as (table id, row key): the newest open alert, else
        the newest failure, else the newest run in progress, else the first pipeline."""
        table = self._first_section()
        if table is None or table.id is None:
            return None
        return table.id, str(table.ordered_rows[0].key.value)

    def land(self) -> tuple[str, str] | None:
        """Focus what needs attention with the cursor on its first row; what that is."""
        table = self._first_section()
        if table is None:
            return None
        table.move_cursor(row=0, animate=False)
        self.focus_first()
        return self.attention()
