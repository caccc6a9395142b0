"""Monitoring: monitors (state, value, threshold, trend), alerts (open first, `a`
acknowledges with a note) and schedules (`p` pauses or resumes), from every runner; `c` checks
the selected monitor now, enter opens a check's run (its log and values)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import DataTable, Static

from shipdeck.formatting import format_age, format_duration, plural
from shipdeck.model import Alert, EventKind, MonitorInfo, ScheduleInfo, Verdict
from shipdeck.model.capabilities import Capability
from shipdeck.model.ids import run_label
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.actions import refuse_if_read_only, refuse_if_unable
from shipdeck.tui.dialogs.ack import AckScreen
from shipdeck.tui.format import clip
from shipdeck.tui.palette import Palette
from shipdeck.tui.view_data.monitoring import MonitoringData, load_monitoring, sparkline
from shipdeck.tui.views.fleet_view import FleetView
from shipdeck.tui.widgets.grid import GridTable
from shipdeck.tui.widgets.table import Cell

STATE_WORD = {
    Verdict.OK: ("ok", "succeeded"),
    Verdict.ALERTING: ("ALERT", "failed"),
    Verdict.FAILED: ("check failed", "cancelled"),
    Verdict.RUNNING: ("checking", "running"),
}


def _key(index: int, name: str) -> str:
    return f"{index}|{name}"


def _parse(key: str) -> tuple[int, str]:
    index, _, name = key.partition("|")
    return int(index), name


class MonitoringView(FleetView[MonitoringData]):
    DEFAULT_CSS = """
    MonitoringView { height: 1fr; }
    MonitoringView .view-status { height: 1; padding: 0 1; color: $foreground 70%; }
    MonitoringView .section { height: 1; padding: 0 1; text-style: bold; }
    MonitoringView #monitoring-monitors { max-height: 40%; height: auto; }
    MonitoringView #monitoring-alerts { max-height: 35%; height: auto; }
    MonitoringView #monitoring-schedules { height: 1fr; max-height: 1fr; }
    """
    RELOAD_ON = frozenset(
        {
            EventKind.CONFIG,
            EventKind.CHECK_FINISHED,
            EventKind.ALERT_OPENED,
            EventKind.ALERT_CLOSED,
            EventKind.ALERT_ACKNOWLEDGED,
            EventKind.SCHEDULE,
            EventKind.SCHEDULE_FIRED,
        }
    )
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings("monitoring.open", "monitoring.check", "monitoring.ack", "monitoring.pause")
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.monitors: dict[str, MonitorInfo] = {}
        self.alerts: dict[str, Alert] = {}
        self.schedules: dict[str, ScheduleInfo] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="monitoring-status", classes="view-status")
        yield GridTable([("monitor", "monitor")], id="monitoring-monitors")
        yield Static("Alerts", classes="section")
        yield GridTable([("alert", "alert")], id="monitoring-alerts")
        yield Static("Schedules", classes="section")
        yield GridTable([("name", "name")], id="monitoring-schedules")

    async def load(self, index: int, runner: Runner) -> MonitoringData:
        return await load_monitoring(runner)

    def focus_table(self) -> None:
        self.query_one("#monitoring-monitors", GridTable).focus()

    # Painting.

    def paint(self) -> None:
        app = self.cockpit
        palette = app.palette
        now = app.clock()
        answered = self.answered()
        self.monitors = {_key(i, m.name): m for i, data in answered for m in data.monitors}
        alerts = [(i, a) for i, data in answered for a in data.alerts]
        alerts.sort(key=lambda item: (item[1].closed_at is not None, -item[1].since.timestamp()))
        self.alerts = {_key(i, str(a.id)): a for i, a in alerts}
        self.schedules = {_key(i, s.name): s for i, data in answered for s in data.schedules}
        runner = [("runner", "runner")] if self.many else []
        self.query_one("#monitoring-monitors", GridTable).set_grid(
            [
                *runner,
                ("monitor", "monitor"),
                ("state", "state"),
                ("value", "value"),
                ("threshold", "alerts when"),
                ("trend", "trend"),
                ("last", "checked"),
            ],
            [
                (key, self._monitor_cells(key, info, palette, now))
                for key, info in self.monitors.items()
            ],
        )
        self.query_one("#monitoring-alerts", GridTable).set_grid(
            [
                *runner,
                ("alert", "alert"),
                ("monitor", "monitor"),
                ("threshold", "threshold"),
                ("value", "value"),
                ("since", "since"),
                ("state", "state"),
            ],
            [
                (key, self._alert_cells(key, alert, palette, now))
                for key, alert in self.alerts.items()
            ],
        )
        self.query_one("#monitoring-schedules", GridTable).set_grid(
            [*runner, ("name", "name"), ("when", "when"), ("next", "next"), ("state", "state")],
            [
                (key, self._schedule_cells(key, item, palette, now))
                for key, item in self.schedules.items()
            ],
        )
        self._paint_status(answered)

    def _runner_cell(self, key: str) -> list[Cell]:
        if not self.many:
            return []
        return [clip(self.cockpit.runners[_parse(key)[0]].name, 12)]

    def _monitor_cells(
        self, key: str, info: MonitorInfo, palette: Palette, now: datetime
    ) -> list[Cell]:
        word, colour = ("never checked", "pending")
        if info.state is not None:
            word, colour = STATE_WORD[info.state]
        state = Text(word, style=palette.status(colour), no_wrap=True)
        if info.open_alerts:
            state.append(f" {info.open_alerts}", style=palette.status("failed"))
        check = info.last_check
        value = "-"
        if check is not None and check.thresholds and check.thresholds[0].value is not None:
            value = f"{check.thresholds[0].value:.4g}"
        threshold = info.thresholds[0] if info.thresholds else "-"
        if len(info.thresholds) > 1:
            threshold += f" +{len(info.thresholds) - 1}"
        when = "-" if check is None else format_age(check.finished_at or check.started_at, now)
        return [
            *self._runner_cell(key),
            clip(info.name, 20),
            state,
            value,
            clip(threshold, 24),
            Text(sparkline(info.recent), style=palette.muted, no_wrap=True),
            when,
        ]

    def _alert_cells(self, key: str, alert: Alert, palette: Palette, now: datetime) -> list[Cell]:
        if alert.closed_at is None:
            state = Text("open", style=palette.status("failed"), no_wrap=True)
        else:
            state = Text(f"closed {format_age(alert.closed_at, now)}", style=palette.muted)
        if alert.acked_by is not None:
            state.append(f" ✓ {alert.acked_by.split('@', 1)[0]}", style=palette.muted)
        value = f"{alert.value:.4g}"
        if alert.last_value != alert.value and alert.closed_at is None:
            value += f" → {alert.last_value:.4g}"
        return [
            *self._runner_cell(key),
            f"#{alert.id}",
            clip(alert.monitor, 16),
            clip(alert.threshold, 24),
            value,
            format_age(alert.since, now),
            state,
        ]

    def _schedule_cells(
        self, key: str, item: ScheduleInfo, palette: Palette, now: datetime
    ) -> list[Cell]:
        if item.next_at is None:
            upcoming = "-" if item.paused or item.kind.timed else "on event"
        else:
            left = (item.next_at - now).total_seconds()
            upcoming = f"in {format_duration(left)}" if left > 0 else "due"
        state = (
            Text(f"paused by {(item.paused_by or '?').split('@', 1)[0]}", style=palette.muted)
            if item.paused
            else Text("active", style=palette.status("succeeded"))
        )
        return [*self._runner_cell(key), clip(item.name, 28), clip(item.rule, 30), upcoming, state]

    def _paint_status(self, answered: list[tuple[int, MonitoringData]]) -> None:
        palette = self.cockpit.palette
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if answered and not any(data.offered for _, data in answered):
            text.append(" this runner does not offer monitors", style=palette.muted)
        else:
            monitors = list(self.monitors.values())
            alerting = sum(1 for m in monitors if m.state == Verdict.ALERTING)
            open_alerts = sum(1 for a in self.alerts.values() if a.closed_at is None)
            text.append(f" {plural(len(monitors), 'monitor')}", style="bold")
            if alerting:
                text.append(f"  {alerting} alerting", style=palette.status("failed"))
            text.append(
                f"  {plural(open_alerts, 'open alert')}",
                style=palette.status("failed") if open_alerts else palette.muted,
            )
        self.query_one("#monitoring-status", Static).update(self.with_runners(text))

    # Selection and actions.

    def _selected(self, table_id: str) -> str | None:
        table = self.query_one(f"#{table_id}", GridTable)
        return table.selected_key if table.has_focus else None

    def _refuse_unselected(self, table_id: str, what: str, none: str, verb: str) -> bool:
        """Say why a key for an item of `table_id` does nothing: every runner is read-only
        (`verb` is refused, whichever list has the cursor), no such item at all, or another
        list has the cursor. True when nothing is selected."""
        if self._selected(table_id) is not None:
            return False
        if all(self.read_only(i) for i in range(len(self.cockpit.runners))):
            refuse_if_read_only(self, verb, self.cockpit.active)
        elif not self.query_one(f"#{table_id}", GridTable).row_count:
            self.notify(none, severity="warning")
        elif table_id == "monitoring-monitors":
            self.notify(f"Select a {what} first", severity="warning")
        else:
            article = "an" if what[0] in "aeiou" else "a"
            self.notify(f"Select {article} {what} first (tab to the {what}s)", severity="warning")
        return True

    def refused_action(self, action: str) -> bool:
        if action not in keymap.MONITOR_WRITE_ACTIONS:
            return False
        return all(self.read_only(i) for i in range(len(self.cockpit.runners)))

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        self.action_open_item()

    def action_open_item(self) -> None:
        app = self.cockpit
        key = self._selected("monitoring-monitors")
        if key is None and (alert_key := self._selected("monitoring-alerts")) is not None:
            index = _parse(alert_key)[0]
            key = _key(index, self.alerts[alert_key].monitor)
        if key is None:
            return
        info = self.monitors.get(key)
        if info is None:
            return
        from shipdeck.tui.screens.monitor_detail import MonitorScreen

        index = _parse(key)[0]
        app.nav.switch_runner(index)
        self.app.push_screen(MonitorScreen(index, info))

    async def action_check(self) -> None:
        key = self._selected("monitoring-monitors")
        if key is None:
            self._refuse_unselected(
                "monitoring-monitors", "monitor", "No monitor to check: none is declared", "Check"
            )
            return
        index, name = _parse(key)
        app = self.cockpit
        if refuse_if_read_only(self, f"check {name}", index):
            return
        if refuse_if_unable(self, f"check {name}", Capability.MONITORS, index):
            return
        runner = app.runners[index]
        check = await app.call(f"Check {name}", lambda: runner.check_monitor(name, wait=False))
        if check is not None:
            self.app.notify(f"{name}: checking (run {run_label(check.run_id)})")

    def action_acknowledge(self) -> None:
        key = self._selected("monitoring-alerts")
        if key is None:
            self._refuse_unselected(
                "monitoring-alerts",
                "alert",
                "No alert to acknowledge: none is listed",
                "Acknowledge",
            )
            return
        index = _parse(key)[0]
        alert = self.alerts[key]
        if refuse_if_read_only(self, f"acknowledge alert #{alert.id}", index):
            return
        if alert.acked_by is not None:
            self.notify(f"alert #{alert.id} was acknowledged by {alert.acked_by}")
            return
        self.app.push_screen(AckScreen(index, alert))

    async def action_toggle_pause(self) -> None:
        key = self._selected("monitoring-schedules")
        if key is None:
            self._refuse_unselected(
                "monitoring-schedules",
                "schedule",
                "No schedule to pause: none is declared",
                "Pause or resume",
            )
            return
        index, name = _parse(key)
        item = self.schedules[key]
        app = self.cockpit
        verb = "resume" if item.paused else "pause"
        if refuse_if_read_only(self, f"{verb} {name}", index):
            return
        if refuse_if_unable(self, f"{verb} {name}", Capability.SCHEDULES, index):
            return
        runner = app.runners[index]
        target = item.paused_as or name
        if item.paused:
            done = await app.call(f"Resume {target}", lambda: runner.resume_schedule(target))
        else:
            done = await app.call(f"Pause {name}", lambda: runner.pause_schedule(name))
        if done is not None:
            self.app.notify(f"{done.name}: {done.action}d by {done.user}")
