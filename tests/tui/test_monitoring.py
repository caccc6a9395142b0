"""The Monitoring view against a real local runner: monitors with their state, value,
threshold and trend; alerts acknowledged with `a` and a note; `c` checks now; `p` pauses a
schedule; snapshots at 80x24 and 120x36 (check times from a fixed clock)."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from shipdeck.model import Verdict
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.testing.frozen import BASE, frozen_clock
from shipdeck.tui import ShipdeckApp, create_app
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.dialogs.ack import AckScreen
from shipdeck.tui.view_data.monitoring import sparkline
from shipdeck.tui.views.monitoring import MonitoringView
from shipdeck.tui.widgets.grid import GridTable
from shipdeck.tui.widgets.table import KeyedTable
from shipdeck.workspace import load_workspace
from tests.tui.deck import USER, HostScreen, wait_for
from tests.tui.screen_text import screen_lines

WORKSPACE = """
[pipelines.retrain]
on_alert = ["drift"]

[pipelines.retrain.tasks.train]
run = "echo training"

[monitors.drift]
description = "scoring data against the training data"
run = "echo \\"::metric drift_share=$(cat value)\\""
every = "10m"
thresholds = ["drift_share >= 0.5"]

[monitors.latency]
run = "echo '::metric p95_ms=180'"
every = "1h"
thresholds = ["p95_ms > 250"]
"""
CHECKED_AT = BASE + timedelta(minutes=30)
NOW = CHECKED_AT + timedelta(minutes=5)


class Clock:
    def __init__(self) -> None:
        self.now = CHECKED_AT.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[LocalRunner]:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipdeck.toml").write_text(textwrap.dedent(WORKSPACE))
    seeder = await open_local_runner(load_workspace(root), user=USER)
    clock = Clock()
    scheduler = seeder.start_scheduling(clock=clock)  # checks stamped by this clock
    try:
        await scheduler.tick()
        for value in (0.1, 0.3, 0.2, 0.7):
            (root / "value").write_text(f"{value}\n")
            clock.now += 60
            await seeder.check_monitor("drift")
        await seeder.check_monitor("latency")
    finally:
        await seeder.close()
    # The app gets a runner of its own that fires nothing: a snapshot runs the app in an
    # event loop of its own, where a scheduler started here could not follow the events.
    runner = await open_local_runner(load_workspace(root), user=USER)
    try:
        yield runner
    finally:
        await runner.close()


def app_for(runner: LocalRunner) -> ShipdeckApp:
    return create_app([runner], config=TuiConfig(), clock=frozen_clock(NOW))


async def show(pilot: Pilot[Any]) -> MonitoringView:
    app = pilot.app
    view = MonitoringView(id="monitoring-view")
    indexes = range(len(app.cockpit.runners))
    await app.push_screen(HostScreen(view))
    await wait_for(
        pilot, lambda: len(view.parts) == len(app.cockpit.runners), "the monitoring view"
    )
    # The footer shows a runner's keys once its capabilities are known: wait for them all.
    await wait_for(pilot, lambda: all(map(app.cockpit.known_capabilities, indexes)), "capabilities")
    await pilot.pause()
    view.focus_table()
    await pilot.pause()
    return view


def rows(view: MonitoringView, table: str) -> list[list[str]]:
    grid = view.query_one(f"#monitoring-{table}", GridTable)
    return [[str(cell) for cell in grid.get_row_at(i)] for i in range(grid.row_count)]


def test_sparkline_scales_between_the_lowest_and_highest() -> None:
    assert sparkline([0.1, 0.3, 0.2, 0.7]) == "▁▃▂█"
    assert sparkline([5, 5]) == "▅▅"
    assert sparkline([]) == ""


async def test_monitors_alerts_and_schedules_are_shown(watched: LocalRunner) -> None:
    async with app_for(watched).run_test(size=(120, 36)) as pilot:
        view = await show(pilot)
        assert rows(view, "monitors") == [
            ["drift", "ALERT 1", "0.7", "drift_share >= 0.5", "▁▃▂█", "1m ago"],
            ["latency", "ok", "180", "p95_ms > 250", "▅", "1m ago"],
        ]
        [alert] = rows(view, "alerts")
        assert alert == ["#1", "drift", "drift_share >= 0.5", "0.7", "1m ago", "open"]
        names = [row[0] for row in rows(view, "schedules")]
        assert names == ["retrain.on_alert", "monitor:drift.every", "monitor:latency.every"]


async def test_a_acknowledges_the_selected_alert_with_a_note(watched: LocalRunner) -> None:
    async with app_for(watched).run_test(size=(120, 36)) as pilot:
        view = await show(pilot)
        await pilot.press("a")  # on the monitors: it says where alerts are
        assert not isinstance(pilot.app.screen, AckScreen)
        view.query_one("#monitoring-alerts", GridTable).focus()
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, AckScreen), "the dialog")
        await pilot.press("enter")  # no note: refused in the dialog
        assert isinstance(pilot.app.screen, AckScreen)
        pilot.app.screen.query_one(Input).value = "new supplier feed, retraining"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, AckScreen), "the ack")
        [alert] = await watched.alerts()
        assert (alert.acked_by, alert.ack_note) == (USER, "new supplier feed, retraining")
        await wait_for(pilot, lambda: "✓ op" in rows(view, "alerts")[0][-1], "the new state")


async def test_c_checks_the_selected_monitor_and_p_pauses_a_schedule(
    watched: LocalRunner,
) -> None:
    async with app_for(watched).run_test(size=(120, 36)) as pilot:
        view = await show(pilot)
        await pilot.press("j", "c")  # latency
        await wait_for(
            pilot,
            lambda: len(view.monitors["0|latency"].recent) == 2,
            "the second latency check",
        )
        [check, _] = await watched.monitor_history("latency")
        assert check.verdict == Verdict.OK and check.trigger == f"checked by {USER}"
        view.query_one("#monitoring-schedules", GridTable).focus()
        await pilot.press("j", "p")  # monitor:drift.every
        await wait_for(pilot, lambda: view.schedules["0|monitor:drift.every"].paused, "the pause")
        listed = {s.name: s for s in (await watched.schedules()).schedules}
        assert listed["monitor:drift.every"].paused_by == USER
        await pilot.press("p")
        await wait_for(
            pilot, lambda: not view.schedules["0|monitor:drift.every"].paused, "the resume"
        )


async def test_read_only_refuses_and_hides_the_actions(watched: LocalRunner) -> None:
    app = create_app([watched], config=TuiConfig(), clock=frozen_clock(NOW), read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        view = await show(pilot)
        footer = {b.binding.id for b in pilot.app.screen.active_bindings.values()}
        assert "monitoring.check" not in footer and "monitoring.ack" not in footer
        await pilot.press("c")
        await pilot.pause()
        assert len(await watched.monitor_history("drift")) == 4  # nothing started
        assert view.is_mounted


async def test_read_only_refuses_ack_and_pause_whatever_list_has_the_cursor(
    watched: LocalRunner,
) -> None:
    from tests.tui.shown import Notices

    app = create_app([watched], config=TuiConfig(), clock=frozen_clock(NOW), read_only=True)
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)  # the cursor is in the monitors' list
        for key, said in [
            ("a", "Acknowledge refused: read-only mode"),
            ("p", "Pause or resume refused: read-only mode"),
        ]:
            notices.shown.clear()
            await pilot.press(key)
            await pilot.pause()
            assert [n.message for n in notices.shown] == [said], key


async def test_a_key_for_another_list_names_it(watched: LocalRunner) -> None:
    from tests.tui.shown import Notices

    app = app_for(watched)
    notices = Notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert [n.message for n in notices.shown] == ["Select an alert first (tab to the alerts)"]


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_monitoring_snapshot(snap_compare: Any, watched: LocalRunner, size: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await show(pilot)
        await pilot.pause(0.1)

    assert snap_compare(app_for(watched), terminal_size=size, run_before=run_before)


async def test_the_overview_shows_open_alerts_above_failures(watched: LocalRunner) -> None:
    async with app_for(watched).run_test(size=(120, 36)) as pilot:
        from shipdeck.tui.screens.main import MainScreen

        screen = pilot.app.screen
        assert isinstance(screen, MainScreen)
        table = screen.query_one("#overview-alerts", GridTable)
        await wait_for(pilot, lambda: table.row_count == 1, "the open alert")
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row == ["⚠ #1", "drift", "drift_share >= 0.5", "0.7", "1m ago"]
        alerts_y = screen.query_one("#alerts-title").region.y
        assert alerts_y < screen.query_one("#failures-title").region.y
        await wait_for(pilot, lambda: table.has_focus, "the alert focused first")
        await pilot.press("r")  # a run's key on an alert: nothing to rerun, no crash
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.current_view == "monitoring", "the monitoring tab")
        await watched.ack_alert(1, note="on it")
        await pilot.press("1")
        await wait_for(pilot, lambda: "✓" in str(table.get_row_at(0)[0]), "the ack mark")


async def test_a_filter_never_reads_as_all_clear_over_open_alerts(watched: LocalRunner) -> None:
    async with app_for(watched).run_test(size=(80, 24)) as pilot:
        from shipdeck.tui.screens.main import MainScreen

        screen = pilot.app.screen
        assert isinstance(screen, MainScreen)
        table = screen.query_one("#overview-alerts", GridTable)
        await wait_for(pilot, lambda: table.row_count == 1, "the open alert")
        await pilot.press("slash", *"nomatch", "enter")
        title = screen.query_one("#alerts-title", Static)
        failures = screen.query_one("#failures-empty", Static)
        hidden = "Alerts: 1 open alert hidden by the filter (esc clears it)"
        await wait_for(pilot, lambda: str(title.render()) == hidden, "the hidden alert's count")
        assert title.display and not table.display
        assert str(failures.render()) == "No failures match /nomatch (esc clears it)"
        await pilot.press("escape")
        await wait_for(pilot, lambda: table.display and table.row_count == 1, "the alert back")
        assert str(title.render()) == "Alerts"


DRIFT_VALUES = {"age.drift_score": 0.02, "age.drifted": 1.0, "age.psi": 0.31}


def test_drift_rows_come_from_the_drift_metrics() -> None:
    from datetime import UTC, datetime

    from shipdeck.model import MonitorCheck
    from shipdeck.tui.screens.monitor_detail import drift_rows

    check = MonitorCheck(
        id=1,
        monitor="drift",
        run_id=1,
        trigger="t",
        user="u",
        started_at=datetime(2026, 1, 5, tzinfo=UTC),
        values={**DRIFT_VALUES, "drift_share": 0.5, "plan.drift_score": 0.4},
    )
    assert drift_rows(check) == [("age", 0.02, 1.0, 0.31), ("plan", 0.4, None, None)]


async def test_enter_opens_the_monitor_with_its_checks_chart_and_log(
    watched: LocalRunner,
) -> None:
    from shipdeck.tui.log.pane import LogPane
    from shipdeck.tui.screens.monitor_detail import MonitorScreen

    async with app_for(watched).run_test(size=(120, 36)) as pilot:
        await show(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen), "the screen")
        screen = pilot.app.screen
        table = screen.query_one("#monitor-checks", KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 4, "the checks")
        assert [str(c) for c in table.get_row_at(0)] == ["#4", "1m ago", "ALERT", "0.7"]
        await wait_for(pilot, lambda: bool(screen.query(LogPane)), "the check's log")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, MonitorScreen), "back")


async def test_escape_on_the_monitoring_tab_and_back_from_a_monitor_keeps_the_cockpit(
    watched: LocalRunner,
) -> None:
    from shipdeck.tui.screens.monitor_detail import MonitorScreen

    async with app_for(watched).run_test(size=(80, 24)) as pilot:
        view = await show(pilot)
        await pilot.press("escape")  # the tab has no filter box: nothing to close
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen), "the screen")
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert pilot.app.is_running and view.is_mounted
        assert rows(view, "monitors")[0][0] == "drift"


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_monitor_screen_snapshot(snap_compare: Any, watched: LocalRunner, size: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        from shipdeck.tui.log.pane import LogPane
        from shipdeck.tui.screens.monitor_detail import MonitorScreen

        await show(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen), "the screen")
        screen = pilot.app.screen
        await wait_for(pilot, lambda: bool(screen.query(LogPane)), "the check's log")
        view = screen.query_one(LogPane).view
        await wait_for(pilot, lambda: view._opened and view.buffer.total > 0, "the log")
        await pilot.pause(0.1)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(app_for(watched), terminal_size=size, run_before=run_before)


async def test_the_history_chart_counts_checks_in_whole_numbers(watched: LocalRunner) -> None:
    from shipdeck.tui.screens.monitor_detail import MonitorScreen
    from shipdeck.tui.widgets.charts import Chart

    async with app_for(watched).run_test(size=(80, 24)) as pilot:
        await show(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen), "the screen")
        chart = pilot.app.screen.query_one(Chart)
        await wait_for(pilot, lambda: chart.builds > 0, "the chart")
        await pilot.pause()
        left = chart.region.x
        lines = [line[left:] for line in screen_lines(pilot.app)]
        label = next(i for i, line in enumerate(lines) if line.strip() == "check")
        assert lines[label - 1].split() == ["1", "2", "3", "4"]


async def test_keys_over_empty_lists_say_there_is_nothing(tmp_path: Path) -> None:
    from tests.tui.shown import Notices

    (tmp_path / "shipdeck.toml").write_text('[pipelines.build.tasks.only]\nrun = "true"\n')
    runner = await open_local_runner(load_workspace(tmp_path), user=USER)
    try:
        app = app_for(runner)
        notices = Notices(app)
        async with app.run_test(size=(80, 24)) as pilot:
            await show(pilot)
            for keys, said in [
                (["c"], "No monitor to check: none is declared"),
                (["tab", "a"], "No alert to acknowledge: none is listed"),
                (["tab", "p"], "No schedule to pause: none is declared"),
            ]:
                notices.shown.clear()
                await pilot.press(*keys)
                await pilot.pause()
                assert [n.message for n in notices.shown] == [said], keys
    finally:
        await runner.close()


async def test_a_check_whose_run_retention_deleted_says_its_log_is_gone(
    watched: LocalRunner,
) -> None:
    """Check #2's run (and its log) went with retention: its row says so where the log was,
    and the log of the check shown before it (#3's) is not left on screen as if it were #2's."""
    from shipdeck.engine.automation.retention import collect_garbage
    from shipdeck.model import RetentionSpec
    from shipdeck.tui.screens.monitor_detail import MonitorScreen

    report = collect_garbage(watched.workspace.state_dir, RetentionSpec(keep=2))
    assert set(report.deleted_runs) == {"1", "2"}  # checks #1 and #2 (runs of monitor:drift)
    async with app_for(watched).run_test(size=(80, 24)) as pilot:
        await show(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MonitorScreen), "the screen")
        table = pilot.app.screen.query_one("#monitor-checks", KeyedTable)
        await wait_for(pilot, lambda: table.row_count == 4, "the checks")
        await pilot.press("j")  # check #3: its run is kept
        await wait_for(
            pilot, lambda: "drift_share=0.2" in "\n".join(screen_lines(pilot.app)), "#3's log"
        )
        await pilot.press("j")  # check #2: its run was deleted
        gone = "check #2's log is gone: run #2 was deleted by retention"
        await wait_for(pilot, lambda: gone in "\n".join(screen_lines(pilot.app)), "gone")
        shown = "\n".join(screen_lines(pilot.app))
        assert "drift_share=0.2" not in shown, shown
