"""Runs: the latest runs of every pipeline, newest first."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Vertical

from shipdeck.model import Run
from shipdeck.tui.data import Snapshot
from shipdeck.tui.format import STATUS_WORD, format_age, format_duration, run_elapsed
from shipdeck.tui.palette import Palette
from shipdeck.tui.widgets.table import Cell, KeyedTable


def _origin(run: Run) -> str:
    if run.parent_id is None:
        return run.trigger
    mode = run.rerun_mode.value if run.rerun_mode else "all"
    if run.rerun_from:
        mode = f"from {run.rerun_from}"
    return f"rerun #{run.parent_id} {mode}"


class RunsView(Vertical):
    DEFAULT_CSS = """
    RunsView { height: 1fr; }
    RunsView KeyedTable { max-height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield KeyedTable(
            [
                ("run", "run"),
                ("pipeline", "pipeline"),
                ("status", "status"),
                ("tasks", "tasks"),
                ("started", "started"),
                ("duration", "took"),
                ("origin", "origin"),
            ],
            id="runs-table",
        )

    def update(self, snapshot: Snapshot, palette: Palette, now: datetime) -> None:
        rows: list[tuple[str, list[Cell]]] = [
            (
                str(run.id),
                [
                    f"#{run.id}",
                    run.pipeline,
                    palette.badge(run.status, STATUS_WORD.get(run.status.value, run.status)),
                    f"{run.tasks_done}/{run.tasks_total}",
                    format_age(run.started_at or run.created_at, now),
                    format_duration(run_elapsed(run, now)),
                    _origin(run),
                ],
            )
            for run in snapshot.runs
        ]
        self.query_one(KeyedTable).set_rows(rows)
