"""One environment's audit log: every action with its gates, outcome and deploy log."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container
from textual.widgets import DataTable, Static

from shipdeck.formatting import format_age, plural
from shipdeck.model import HistoryEntry, Outcome
from shipdeck.model.capabilities import Capability
from shipdeck.tui import keymap
from shipdeck.tui.current import follow_runner_events, tick_while_shown
from shipdeck.tui.deploy_format import OUTCOME_GLYPH, outcome_style, verdict_style
from shipdeck.tui.fleet import offers
from shipdeck.tui.format import clip
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.screens.entry_log import EntryLogScreen
from shipdeck.tui.widgets.footer import SteadyFooter
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.tui.widgets.table import KeyedTable, Row, plain

if TYPE_CHECKING:
    pass


REASON_CELLS = 24
"""The reason column's width: the whole reason is under the table, with the selected action."""


def failed_task(entry: HistoryEntry) -> str:
    """The task whose log explains the outcome: health when the health check failed."""
    return "health" if entry.detail.startswith("health") else "deploy"


class EnvHistoryScreen(EntryLogScreen):
    DEFAULT_CSS = """
    EnvHistoryScreen #env-title { height: 1; padding: 0 1; background: $surface; }
    EnvHistoryScreen KeyedTable { height: auto; max-height: 40%; }
    EnvHistoryScreen #env-entry { height: auto; max-height: 6; padding: 0 1; background: $panel; }
    EnvHistoryScreen #env-log { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [keymap.ALL_BINDINGS["back"]]

    def __init__(self, runner_index: int, service: str, env: str) -> None:
        super().__init__(runner_index)
        self.service = service
        self.env = env
        self.entries: list[HistoryEntry] = []

    def compose(self) -> ComposeResult:
        yield AppHeader(f"{self.service}/{self.env}")
        yield Static(f" {self.service}/{self.env} history", id="env-title", markup=False)
        yield KeyedTable(
            [
                ("when", "when"),
                ("action", "action"),
                ("move", "from → to"),
                ("who", "who"),
                ("outcome", "outcome"),
                ("reason", "reason"),
            ],
            id="env-history",
        )
        yield Static("", id="env-entry")
        yield Container(id="env-log")
        yield SteadyFooter(compact=True)

    def on_mount(self) -> None:
        self.run_worker(self._load(), group="env-history", exclusive=True)
        tick_while_shown(self, self._repaint_ages)
        follow_runner_events(self, self.on_runner_events)

    def _repaint_ages(self) -> None:
        table = self.query_one(KeyedTable)
        now = self.cockpit.clock()
        for entry in self.entries:
            if str(entry.id) in table.rows:
                table.update_cell(str(entry.id), "when", plain(format_age(entry.at, now)))

    async def _load(self) -> None:
        app = self.cockpit
        runner = app.runners[self.runner_index]
        if not await offers(runner, Capability.DEPLOYMENTS):
            return
        entries = await app.call("History", lambda: runner.history(self.service, self.env))
        if entries is None:
            return
        self.entries = entries
        palette = app.palette
        now = app.clock()
        rows: list[Row] = []
        for entry in entries:
            colour = outcome_style(entry.outcome, palette)
            rows.append(
                (
                    str(entry.id),
                    [
                        format_age(entry.at, now),
                        f"auto {entry.action.value}" if entry.automatic else entry.action.value,
                        f"{entry.from_revision or '∅'} → {entry.to_revision}",
                        entry.user,
                        Text(
                            f"{OUTCOME_GLYPH.get(entry.outcome, '?')} {entry.outcome.value}",
                            style=colour,
                        ),
                        clip(entry.reason, REASON_CELLS),
                    ],
                )
            )
        table = self.query_one(KeyedTable)
        table.set_rows(rows)
        title = f" {self.service}/{self.env}: {plural(len(entries), 'action')}, newest first"
        self.query_one("#env-title", Static).update(title)
        table.focus()
        if entries:
            await self._show(entries[0])
        else:
            self.query_one("#env-entry", Static).update("no action on this environment yet")

    async def _show(self, entry: HistoryEntry) -> None:
        palette = self.cockpit.palette
        text = Text()
        colour = outcome_style(entry.outcome, palette)
        text.append(f"{entry.action.value} {entry.from_revision or '∅'} → {entry.to_revision}")
        text.append(
            f"  {OUTCOME_GLYPH.get(entry.outcome, '?')} {entry.outcome.value}", style=colour
        )
        if entry.forced:
            text.append("  FORCED", style=palette.colour("warning"))
        if entry.automatic:
            text.append("  AUTOMATIC", style=palette.colour("accent"))
        if entry.reason:
            text.append(f"  reason: {entry.reason}")
        if entry.detail:
            muted = entry.outcome == Outcome.SUCCEEDED
            text.append(f"\n{entry.detail}", style=palette.muted if muted else colour)
        for gate in entry.gates:
            verdict = verdict_style(gate.passed, palette)
            text.append(f"\n{'✓' if gate.passed else '✗'} {gate.gate}", style=verdict)
            text.append(f"  {gate.reason}", style=palette.muted)
        self.query_one("#env-entry", Static).update(text)
        holder = self.query_one("#env-log")
        await holder.query(LogPane).remove()
        if entry.run_id is not None:
            runner = self.cockpit.runners[self.runner_index]
            await holder.mount(LogPane(runner, entry.run_id, failed_task(entry)))

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        message.stop()
        entry = next((e for e in self.entries if str(e.id) == message.row_key.value), None)
        if entry is not None:
            self.run_worker(self._show(entry), group="env-entry", exclusive=True)
