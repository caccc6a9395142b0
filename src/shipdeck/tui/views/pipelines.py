"""Pipelines: what the workspace declares, with each pipeline's last run."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Vertical

from shipdeck.formatting import format_age
from shipdeck.tui.format import clip, clip_name, format_param
from shipdeck.tui.palette import Palette
from shipdeck.tui.view_data.snapshot import Snapshot
from shipdeck.tui.views.overview import strip
from shipdeck.tui.widgets.table import KeyedTable, Row


class PipelinesView(Vertical):
    DEFAULT_CSS = """
    PipelinesView { height: 1fr; }
    PipelinesView KeyedTable { max-height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield KeyedTable(
            [
                ("pipeline", "pipeline"),
                ("tasks", "tasks"),
                ("params", "params"),
                ("last", "last"),
                ("age", ""),
                ("history", "history"),
                ("description", "description"),
            ],
            id="pipelines-table",
        )

    def update(self, snapshot: Snapshot, palette: Palette, now: datetime) -> None:
        rows: list[Row] = []
        for pipeline in snapshot.pipelines:
            runs = snapshot.history.get(pipeline.name, [])
            last = runs[0] if runs else None
            params = " ".join(f"{k}={format_param(v)}" for k, v in pipeline.params.items())
            rows.append(
                (
                    pipeline.name,
                    [
                        clip_name(pipeline.name),
                        str(len(pipeline.tasks)),
                        clip(params, 22),
                        palette.badge(last.status, last.label) if last else "-",
                        format_age(last.created_at, now) if last else "",
                        strip(runs, palette, 10),
                        clip(pipeline.description, 40),
                    ],
                )
            )
        self.query_one(KeyedTable).set_rows(rows)
