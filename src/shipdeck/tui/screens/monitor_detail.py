"""One monitor: its checks (newest first), the history chart of its first threshold's metric,
the per-column drift of the selected check (when it reports `COLUMN.drift_score`, as
`shipdeck drift --metrics` does) and the selected check's log."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Horizontal
from textual.widgets import DataTable, Static

from shipdeck.errors import NotFound
from shipdeck.formatting import format_age, plural
from shipdeck.model import EventKind, EventPage, MonitorCheck, MonitorInfo, Verdict
from shipdeck.model.ids import run_label
from shipdeck.model.monitor import CHECK_TASK
from shipdeck.tui import keymap
from shipdeck.tui.current import follow_runner_events
from shipdeck.tui.format import clip
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.palette import Palette
from shipdeck.tui.screens.entry_log import EntryLogScreen
from shipdeck.tui.widgets.charts import Chart, Series
from shipdeck.tui.widgets.footer import SteadyFooter
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.tui.widgets.table import Cell, KeyedTable

if TYPE_CHECKING:
    pass

HISTORY = 50
VERDICT_STYLE = {
    Verdict.OK: ("ok", "succeeded"),
    Verdict.ALERTING: ("ALERT", "failed"),
    Verdict.FAILED: ("failed", "cancelled"),
    Verdict.RUNNING: ("checking", "running"),
}


def drift_rows(check: MonitorCheck) -> list[tuple[str, float, float | None, float | None]]:
    """(column, drift score, drifted 0/1, psi) of every column the check reported."""
    rows = []
    for key, score in check.values.items():
        column, dot, kind = key.rpartition(".")
        if dot and kind == "drift_score":
            rows.append(
                (
                    column,
                    score,
                    check.values.get(f"{column}.drifted"),
                    check.values.get(f"{column}.psi"),
                )
            )
    return rows


class MonitorScreen(EntryLogScreen):
    DEFAULT_CSS = """
    MonitorScreen #monitor-title { height: auto; padding: 0 1; background: $surface; }
    MonitorScreen #monitor-top { height: 45%; }
    MonitorScreen #monitor-checks { width: 1fr; height: 1fr; }
    MonitorScreen #monitor-chart { width: 1fr; height: 1fr; }
    MonitorScreen #monitor-drift { height: auto; max-height: 8; }
    MonitorScreen #monitor-log { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        keymap.ALL_BINDINGS["back"],
        keymap.ALL_BINDINGS["close"],
    ]

    def __init__(self, runner_index: int, info: MonitorInfo) -> None:
        super().__init__(runner_index)
        self.info = info
        self.checks: list[MonitorCheck] = []
        self._shown: int | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader(self.info.name)
        yield Static("", id="monitor-title")
        with Horizontal(id="monitor-top"):
            yield KeyedTable(
                [("check", "check"), ("when", "when"), ("verdict", "verdict"), ("value", "value")],
                id="monitor-checks",
            )
            yield Chart(id="monitor-chart")
        yield KeyedTable(
            [("column", "column"), ("score", "score"), ("drifted", "drifted"), ("psi", "psi")],
            id="monitor-drift",
        )
        yield Container(id="monitor-log")
        yield SteadyFooter(compact=True)

    def on_mount(self) -> None:
        info = self.info
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f" {info.name}", style="bold")
        title.append(f"  {info.rule}")
        if info.thresholds:
            title.append(f"  alerts when {', '.join(info.thresholds)}")
        if info.watches:
            watched = " ".join(f"{k} {v}" for k, v in info.watches.items())
            title.append(f"  watches {watched}", style=self.cockpit.palette.muted)
        self.query_one("#monitor-title", Static).update(title)
        self.query_one("#monitor-drift").display = False
        self.run_worker(self._load(), group="monitor-checks", exclusive=True)
        follow_runner_events(self, self.on_runner_events)

    @property
    def metric(self) -> str | None:
        first = self.info.thresholds[0] if self.info.thresholds else ""
        return first.split()[0] if first else None

    async def _load(self) -> None:
        app = self.cockpit
        runner = app.runners[self.runner_index]
        name = self.info.name
        checks = await app.call("Checks", lambda: runner.monitor_history(name, limit=HISTORY))
        if checks is None:
            return
        self.checks = checks
        palette = app.palette
        now = app.clock()
        table = self.query_one("#monitor-checks", KeyedTable)
        table.set_rows([(str(c.id), self._cells(c, palette, now)) for c in checks])
        self._chart()
        if not table.has_focus:
            table.focus()
        if checks and self._shown is None:
            await self._show(checks[0])

    def _cells(self, check: MonitorCheck, palette: Palette, now: object) -> list[Cell]:
        word, colour = VERDICT_STYLE[check.verdict]
        metric = self.metric
        value = check.values.get(metric) if metric is not None else None
        return [
            f"#{check.id}",
            format_age(check.finished_at or check.started_at, self.cockpit.clock()),
            Text(word, style=palette.status(colour)),
            "-" if value is None else f"{value:.4g}",
        ]

    def _chart(self) -> None:
        chart = self.query_one(Chart)
        metric = self.metric
        points = [
            (float(check.id), check.values[metric])
            for check in reversed(self.checks)
            if metric is not None and metric in check.values
        ]
        if not points:
            chart.empty(f"{metric or 'no threshold'}: no values yet")
            return
        series = Series(metric or "", [p[0] for p in points], [p[1] for p in points])
        chart.curves(f"{metric} by check", [series], xlabel="check")

    async def _show(self, check: MonitorCheck) -> None:
        self._shown = check.id
        rows = drift_rows(check)
        drift = self.query_one("#monitor-drift", KeyedTable)
        drift.display = bool(rows)
        palette = self.cockpit.palette
        drift.set_rows(
            [
                (
                    column,
                    [
                        clip(column, 24),
                        f"{score:.4g}",
                        Text("DRIFT", style=palette.status("failed"))
                        if drifted
                        else Text("-", style=palette.muted),
                        "-" if psi is None else f"{psi:.3f}",
                    ],
                )
                for column, score, drifted, psi in rows
            ]
        )
        holder = self.query_one("#monitor-log")
        await holder.remove_children()
        runner = self.cockpit.runners[self.runner_index]
        if await self._run_gone(check):
            gone = f" check #{check.id}'s log is gone: run {run_label(check.run_id)} was deleted"
            note = Text(
                f"{gone} by retention", style=palette.muted, no_wrap=True, overflow="ellipsis"
            )
            await holder.mount(Static(note, id="monitor-log-gone"))
        else:
            await holder.mount(LogPane(runner, check.run_id, CHECK_TASK))
        header = self.query_one("#monitor-title", Static)
        header.tooltip = f"{plural(len(self.checks), 'check')}, newest first"

    async def _run_gone(self, check: MonitorCheck) -> bool:
        """Whether the check's run no longer exists: retention deleted it with its log (the
        check itself is kept). Any other failure is the log pane's to show."""
        runner = self.cockpit.runners[self.runner_index]
        try:
            await runner.run(check.run_id)
        except NotFound:
            return True
        except Exception:
            return False
        return False

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        if message.data_table.id != "monitor-checks":
            return
        message.stop()
        check = next((c for c in self.checks if str(c.id) == message.row_key.value), None)
        if check is not None and check.id != self._shown:
            self.run_worker(self._show(check), group="monitor-check", exclusive=True)

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        super().on_runner_events(runner_index, page)
        if runner_index != self.runner_index:
            return
        if page.reset or any(e.kind == EventKind.CHECK_FINISHED for e in page.events):
            self.run_worker(self._load(), group="monitor-checks", exclusive=True)
