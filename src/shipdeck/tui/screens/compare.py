"""Compare runs or model versions: params and metrics side by side with deltas against the
first and the best marked, `d` for only the differences, and charts of the selected metric
(its per-step curve for every subject, and one bar per subject)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static

from shipdeck.formatting import format_metric
from shipdeck.model import CompareRow, Comparison, LineageKind, RunDetail
from shipdeck.model.capabilities import Capability
from shipdeck.tui import keymap
from shipdeck.tui.current import cockpit_of
from shipdeck.tui.deploy_format import delta_text, reading_order
from shipdeck.tui.format import clip, format_param
from shipdeck.tui.widgets.charts import Chart, Series
from shipdeck.tui.widgets.footer import SteadyFooter
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.tui.widgets.virtual_table import Cell, Row, VirtualTable

if TYPE_CHECKING:
    from shipdeck.tui.cockpit import Cockpit

BEST = "★"


def curves_for(key: str, labels: list[str], details: list[RunDetail | None]) -> list[Series]:
    """Per subject (and per task, when several tasks report the key): the values by step."""
    series: list[Series] = []
    for label, detail in zip(labels, details, strict=True):
        if detail is None:
            continue
        by_task: dict[str, list[tuple[int, float]]] = {}
        for metric in detail.metrics:
            if metric.key == key and metric.step is not None:
                by_task.setdefault(metric.task, []).append((metric.step, metric.value))
        for task, points in by_task.items():
            points.sort()
            name = label if len(by_task) == 1 else f"{label} {task}"
            series.append(Series(name, [p[0] for p in points], [p[1] for p in points]))
    return series


def stepped_keys(details: list[RunDetail | None]) -> list[str]:
    """Metric keys some subject reported at two or more steps, in first-seen order."""
    counts: dict[str, int] = {}
    for detail in details:
        if detail is None:
            continue
        for metric in detail.metrics:
            if metric.step is not None:
                counts[metric.key] = counts.get(metric.key, 0) + 1
    return [key for key, count in counts.items() if count >= 2]


def lineage_line(comparison: Comparison, warning: Style) -> Text | None:
    """`different data: churn@v2 (data/train.csv differs …) · same code`, or None when no
    subject recorded its lineage."""
    if not any(s.lineage is not None and s.lineage.recorded for s in comparison.subjects):
        return None
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for kind in (LineageKind.DATA, LineageKind.CODE):
        flagged = [flag for flag in comparison.lineage if flag.kind == kind]
        known = all(s.lineage is not None and s.lineage.knows(kind) for s in comparison.subjects)
        if not flagged and not known:
            continue  # not recorded for every subject: nothing to say either way
        if text:
            text.append(" · ")
        if not flagged:
            text.append(f"same {kind.value}")
            continue
        subjects = ", ".join(flag.subject for flag in flagged)
        text.append(f"different {kind.value}: {subjects}", style=warning + Style(bold=True))
        if len(flagged) == 1:
            text.append(f" ({flagged[0].detail})")
    return text


class CompareScreen(Screen[None]):
    DEFAULT_CSS = """
    CompareScreen #compare-title { height: 1; padding: 0 1; background: $surface; }
    CompareScreen #compare-lineage { height: 1; padding: 0 1; background: $surface; display: none; }
    CompareScreen VirtualTable { height: auto; max-height: 45%; }
    CompareScreen #compare-charts { height: 1fr; min-height: 8; display: none; }
    CompareScreen Chart { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("back", "close"),
        *keymap.bindings("compare.diff"),
    ]

    def __init__(self, runner_index: int, refs: list[str]) -> None:
        super().__init__()
        self.runner_index = runner_index
        self.refs = refs
        self.comparison: Comparison | None = None
        self.details: list[RunDetail | None] = []
        self.only_differences = False
        self._chart_key: str | None = None

    @property
    def cockpit(self) -> Cockpit:
        return cockpit_of(self)

    def compose(self) -> ComposeResult:
        yield AppHeader("compare")
        yield Static(f" comparing {', '.join(self.refs)}…", id="compare-title", markup=False)
        yield Static("", id="compare-lineage", markup=False)
        yield VirtualTable([("key", "")], fixed_columns=1, id="compare-table")
        with Horizontal(id="compare-charts"):
            yield Chart(id="curves")
            yield Chart(id="bars")
        yield SteadyFooter(compact=True)

    def on_mount(self) -> None:
        self.run_worker(self._load(), group="compare-load", exclusive=True)

    async def _load(self) -> None:
        from shipdeck.tui.fleet import offers

        app = self.cockpit
        runner = app.runners[self.runner_index]
        title = self.query_one("#compare-title", Static)
        if not await offers(runner, Capability.MODELS):
            title.update(f" {runner.name} does not offer comparisons")
            return
        comparison = await app.call("Compare", lambda: runner.compare(self.refs))
        if comparison is None:
            title.update(f" could not compare {', '.join(self.refs)}")
            return
        details = await asyncio.gather(
            *(runner.run(s.run_id) for s in comparison.subjects), return_exceptions=True
        )
        self.show(comparison, [d if isinstance(d, RunDetail) else None for d in details])

    def show(self, comparison: Comparison, details: list[RunDetail | None]) -> None:
        """Paint a comparison (the loader calls this; benchmarks call it directly)."""
        self.comparison = comparison
        self.details = details
        table = self.query_one(VirtualTable)
        self._paint_table()
        self._paint_lineage()
        self.query_one("#compare-charts").display = True
        self._paint_charts()
        if not table.has_focus:  # focusing again would rebuild the footer once more
            table.focus()

    def _rows(self) -> list[CompareRow]:
        assert self.comparison is not None
        rows = reading_order(self.comparison.rows)
        return [r for r in rows if r.differs] if self.only_differences else rows

    def _paint_table(self) -> None:
        if self.comparison is None:
            return
        palette = self.cockpit.palette
        rows: list[Row] = []
        for row in self._rows():
            label = Text(clip(row.key, 18), no_wrap=True)
            if row.kind == "param":
                label.stylize(palette.muted)
            cells: list[Cell] = [label]
            for position, cell in enumerate(row.cells):
                if isinstance(cell.value, float) and row.kind == "metric":
                    text = Text(format_metric(cell.value), no_wrap=True)
                elif cell.value is None:
                    text = Text("-", style=palette.muted)
                else:
                    text = Text(clip(format_param(cell.value), 14), no_wrap=True)
                if position and cell.delta is not None and row.kind == "metric":
                    text.append(" ")
                    text.append_text(delta_text(cell.delta, row.direction, palette))
                if cell.best:
                    text.append(f" {BEST}", style=palette.colour("warning"))
                if row.differs and row.kind == "param" and position:
                    text.stylize("bold")
                cells.append(text)
            rows.append((f"{row.kind}:{row.key}", cells))
        subjects = self.comparison.subjects
        columns = [("key", ""), *((f"s{i}", s.label) for i, s in enumerate(subjects))]
        self.query_one(VirtualTable).set_static_rows(columns, rows)
        shown = len(rows)
        title = Text(no_wrap=True, overflow="ellipsis", end="")
        title.append(f" {len(subjects)} compared", style="bold")
        title.append(f"  Δ vs {subjects[0].label}  {BEST} best", style=palette.muted)
        if self.only_differences:
            title.append(f"  only differences ({shown}/{len(self.comparison.rows)})", style="bold")
        self.query_one("#compare-title", Static).update(title)

    def _paint_lineage(self) -> None:
        """One line: whether the subjects were trained on the same data and code as the
        first; hidden when none of them recorded lineage."""
        assert self.comparison is not None
        line = self.query_one("#compare-lineage", Static)
        text = lineage_line(self.comparison, self.cockpit.palette.colour("warning"))
        line.display = text is not None
        if text is not None:
            line.update(text)

    def chart_key(self) -> str | None:
        """The selected metric row, else the first metric in reading order."""
        table = self.query_one(VirtualTable)
        key = table.selected_key
        if key and key.startswith("metric:"):
            return key.removeprefix("metric:")
        if self.comparison is None:
            return None
        metrics = (r.key for r in reading_order(self.comparison.rows) if r.kind == "metric")
        return next(metrics, None)

    def _paint_charts(self) -> None:
        if self.comparison is None:
            return
        key = self.chart_key()
        self._chart_key = key
        labels = [s.label for s in self.comparison.subjects]
        curves = self.query_one("#curves", Chart)
        stepped = stepped_keys(self.details)
        curve_key = key if key in stepped else (stepped[0] if stepped else None)
        if curve_key is None:
            curves.empty("no per-step metrics")
        else:
            curves.curves(f"{curve_key} per step", curves_for(curve_key, labels, self.details))
        bars = self.query_one("#bars", Chart)
        row = next((r for r in self.comparison.rows if r.kind == "metric" and r.key == key), None)
        if row is None:
            bars.empty("no metrics")
            return
        pairs = [
            (label, float(cell.value))
            for label, cell in zip(labels, row.cells, strict=True)
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
        ]
        bars.bars(
            f"{key} (axis from near the lowest)", [p[0] for p in pairs], [p[1] for p in pairs]
        )

    def on_virtual_table_row_highlighted(self, message: VirtualTable.RowHighlighted) -> None:
        message.stop()
        if self.comparison is not None and self.chart_key() != self._chart_key:
            self._paint_charts()

    def on_virtual_table_row_selected(self, message: VirtualTable.RowSelected) -> None:
        message.stop()

    def action_toggle_diff(self) -> None:
        self.only_differences = not self.only_differences
        self._paint_table()

    def action_back(self) -> None:
        self.app.pop_screen()
