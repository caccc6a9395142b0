"""Overview: recent failures first, then runs in progress, then every pipeline's history."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from shipdeck.model import Run, RunDetail, TaskStatus
from shipdeck.tui.data import STRIP_RUNS, Snapshot
from shipdeck.tui.format import clip, format_age, format_duration, progress_bar, run_elapsed
from shipdeck.tui.palette import Palette
from shipdeck.tui.widgets.table import Cell, KeyedTable


def _failure_cause(detail: RunDetail | None) -> str:
    if detail is None:
        return ""
    bad = [t for t in detail.tasks if t.status in (TaskStatus.FAILED, TaskStatus.INTERRUPTED)]
    if not bad:
        return ""
    task = bad[0]
    reason = f": {task.reason}" if task.reason else ""
    return f"{task.name}{reason}"


def _running_tasks(detail: RunDetail | None) -> str:
    if detail is None:
        return ""
    names = [t.name for t in detail.tasks if t.status in (TaskStatus.RUNNING, TaskStatus.RETRYING)]
    return ", ".join(names)


def strip(runs: list[Run], palette: Palette, width: int = STRIP_RUNS) -> Text:
    """Oldest on the left, newest on the right, padded on the left to a fixed width."""
    text = Text(no_wrap=True, end="")
    text.append("·" * max(0, width - len(runs)), style=palette.muted)
    for run in reversed(runs[:width]):
        text.append_text(palette.badge(run.status))
    return text


class OverviewView(Vertical):
    DEFAULT_CSS = """
    OverviewView { height: 1fr; }
    OverviewView #overview-runners { height: auto; max-height: 5; display: none; }
    OverviewView KeyedTable { max-height: 7; }
    OverviewView #overview-pipelines { max-height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="overview-runners")
        yield Static("Failures", classes="section-title", id="failures-title")
        yield Static("No recent failures", classes="empty", id="failures-empty")
        yield KeyedTable(
            [("run", "run"), ("pipeline", "pipeline"), ("cause", "failed task"), ("age", "")],
            id="overview-failures",
        )
        yield Static("Running", classes="section-title", id="running-title")
        yield Static("Nothing running", classes="empty", id="running-empty")
        yield KeyedTable(
            [
                ("run", "run"),
                ("pipeline", "pipeline"),
                ("progress", "progress"),
                ("elapsed", "elapsed"),
                ("tasks", "now running"),
            ],
            id="overview-running",
        )
        yield Static("Pipelines", classes="section-title")
        yield KeyedTable(
            [
                ("pipeline", "pipeline"),
                ("history", "last runs, newest right"),
                ("last", "last"),
                ("age", ""),
            ],
            id="overview-pipelines",
        )

    def on_mount(self) -> None:
        for table in self.query(KeyedTable):
            table.show_header = table.id == "overview-pipelines"

    def update(self, snapshot: Snapshot, palette: Palette, now: datetime) -> None:
        failures = snapshot.failures
        failure_rows: list[tuple[str, list[Cell]]] = [
            (
                str(run.id),
                [
                    palette.badge(run.status, f"#{run.id}"),
                    run.pipeline,
                    Text(
                        clip(_failure_cause(snapshot.details.get(run.id)), 34),
                        style=palette.status("failed"),
                    ),
                    format_age(run.finished_at or run.created_at, now),
                ],
            )
            for run in failures
        ]
        self._fill("failures", failure_rows)

        running_rows: list[tuple[str, list[Cell]]] = [
            (
                str(run.id),
                [
                    palette.badge(run.status, f"#{run.id}"),
                    run.pipeline,
                    f"{progress_bar(run.tasks_done, run.tasks_total, 8)} "
                    f"{run.tasks_done}/{run.tasks_total}",
                    format_duration(run_elapsed(run, now)),
                    clip(_running_tasks(snapshot.details.get(run.id)), 24),
                ],
            )
            for run in snapshot.active
        ]
        self._fill("running", running_rows)

        pipeline_rows: list[tuple[str, list[Cell]]] = []
        for pipeline in snapshot.pipelines:
            runs = snapshot.history.get(pipeline.name, [])
            last = runs[0] if runs else None
            pipeline_rows.append(
                (
                    pipeline.name,
                    [
                        pipeline.name,
                        strip(runs, palette),
                        palette.badge(last.status, f"#{last.id}") if last else "never run",
                        format_age(last.created_at, now) if last else "",
                    ],
                )
            )
        self.query_one("#overview-pipelines", KeyedTable).set_rows(pipeline_rows)

    def _fill(self, section: str, rows: list[tuple[str, list[Cell]]]) -> None:
        table = self.query_one(f"#overview-{section}", KeyedTable)
        table.set_rows(rows)
        table.display = bool(rows)
        self.query_one(f"#{section}-empty").display = not rows

    def show_runners(self, lines: list[Text]) -> None:
        """With several runners: one line each (state, running, failures, last run)."""
        runners = self.query_one("#overview-runners", Static)
        runners.display = bool(lines)
        if lines:
            runners.update(Text("\n").join(lines))

    def focus_first(self) -> None:
        """Land on what needs attention: the newest failure, else a running run."""
        for section in ("failures", "running", "pipelines"):
            table = self.query_one(f"#overview-{section}", KeyedTable)
            if table.row_count:
                table.focus()
                return
