"""The home screen: tabs for the top-level views over one snapshot of the active runner."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable, Footer, Tab, Tabs

from shipdeck.model import EventKind, EventPage, RerunMode, Run
from shipdeck.tui import actions, keymap
from shipdeck.tui.data import Snapshot, load_snapshot
from shipdeck.tui.fleet_runs import FleetRuns, load_fleet_runs, parse_fleet_key, runner_summary
from shipdeck.tui.screens.fleet_view import FleetView
from shipdeck.tui.screens.overview import OverviewView
from shipdeck.tui.screens.pipelines import PipelinesView
from shipdeck.tui.screens.runs import RunsView
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.tui.widgets.table import KeyedTable

if TYPE_CHECKING:
    from shipdeck.tui.app import ShipdeckApp

VIEWS = ("overview", "pipelines", "runs", "models", "deployments", "timeline")
LAZY_VIEWS: dict[str, type[Widget]] = {
    "pipelines": PipelinesView,
    "runs": RunsView,
}
FLEET_VIEWS = ("models", "deployments", "timeline")
RELOAD_INTERVAL = 0.5


def view_class(view: str) -> type[Widget]:
    """The widget class of a tab; the fleet views are imported when first opened."""
    if view == "models":
        from shipdeck.tui.screens.models import ModelsView

        return ModelsView
    if view == "deployments":
        from shipdeck.tui.screens.deployments import DeploymentsView

        return DeploymentsView
    if view == "timeline":
        from shipdeck.tui.screens.timeline import TimelineView

        return TimelineView
    return LAZY_VIEWS[view]


class ViewTabs(Tabs, can_focus=False):
    """Tabs that show where you are; number keys switch, so they never take focus."""


class MainScreen(Screen[None]):
    CSS_PATH = "main.tcss"
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings("trigger", "rerun", "rerun-failed", "cancel", "refresh")
    )

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: Snapshot | None = None
        self._stale = True
        self._loading = False
        self.fleet: FleetRuns | None = None

    @property
    def shipdeck(self) -> ShipdeckApp:
        from shipdeck.tui.app import ShipdeckApp

        app = self.app
        assert isinstance(app, ShipdeckApp)
        return app

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield ViewTabs(
            Tab("1 Overview", id="overview"),
            Tab("2 Pipelines", id="pipelines"),
            Tab("3 Runs", id="runs"),
            Tab("4 Models", id="models"),
            Tab("5 Deploys", id="deployments"),
            Tab("6 Timeline", id="timeline"),
        )
        with ContentSwitcher(initial="overview-view"):
            yield OverviewView(id="overview-view")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_interval(RELOAD_INTERVAL, self._reload_if_stale)
        self.set_interval(1.0, self._repaint)
        self.reload()

    # Data.

    def reload(self) -> None:
        self._stale = True
        self._reload_if_stale()

    def _reload_if_stale(self) -> None:
        if self._stale and not self._loading:
            self._stale = False
            self._loading = True
            self.run_worker(self._load(), group="snapshot")

    async def _load(self) -> None:
        app = self.shipdeck
        runner = app.runner
        try:
            pipelines = await app.call("Loading pipelines", app.pipelines)
            if pipelines is None:
                return
            snapshot = await app.call("Loading runs", lambda: load_snapshot(runner, pipelines))
        finally:
            self._loading = False
        if snapshot is None or runner is not app.runner:
            return
        first = self.snapshot is None
        self.snapshot = snapshot
        self._repaint()
        if first:
            self.query_one(OverviewView).focus_first()
        if len(app.runners) > 1:
            # The other runners after the active one is painted: an offline one waits alone.
            parts = await load_fleet_runs(app.runners, app.active)
            names = [r.name for r in app.runners]
            self.fleet = FleetRuns(names, app.active, parts)
            self._repaint()

    def _repaint(self) -> None:
        if self.snapshot is None:
            return
        app = self.shipdeck
        now = app.clock()
        self.query_one(OverviewView).update(self.snapshot, app.palette, now)
        # A view still being mounted (built on first use) is painted once its mount completes.
        for view in self.query(PipelinesView):
            if view.is_mounted:
                view.update(self.snapshot, app.palette, now)
        for runs in self.query(RunsView):
            if runs.is_mounted:
                runs.update(self.snapshot, app.palette, now, self.fleet)
        self.query_one(OverviewView).show_runners(self._runner_lines(now))

    def _runner_lines(self, now: datetime) -> list[Text]:
        app = self.shipdeck
        if len(app.runners) < 2 or self.snapshot is None:
            return []
        parts = self.fleet.parts if self.fleet is not None else {}
        lines = []
        for index, runner in enumerate(app.runners):
            part = parts.get(index)
            runs = self.snapshot.runs if index == app.active else (part.data if part else None)
            error = part.error if part is not None and index != app.active else ""
            state = app.connection_state(index)
            lines.append(runner_summary(runner.name, state, runs, error, app.palette, now))
        return lines

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        for view in self.query(FleetView):
            view.on_runner_events(runner_index, page)
        if runner_index != self.shipdeck.active and len(self.shipdeck.runners) < 2:
            return
        if page.reset or any(e.kind in (EventKind.RUN, EventKind.TASK) for e in page.events):
            self._stale = True

    # Views.

    def show_view(self, view: str) -> None:
        if view not in VIEWS:
            return
        self.query_one(ViewTabs).active = view

    async def on_tabs_tab_activated(self, message: Tabs.TabActivated) -> None:
        view = message.tab.id or "overview"
        switcher = self.query_one(ContentSwitcher)
        if not switcher.query_children(f"#{view}-view"):
            # Views other than the overview are built on first use: a faster first frame.
            await switcher.mount(view_class(view)(id=f"{view}-view"))
            self._repaint()
        switcher.current = f"{view}-view"
        self.refresh_bindings()
        shown = self.query_one(f"#{view}-view")
        if isinstance(shown, FleetView):
            shown.focus_table()
            return
        tables = self.query_one(f"#{view}-view").query(KeyedTable)
        focus = next((t for t in tables if t.row_count), None) or (
            tables.first() if tables else None
        )
        if focus is not None:
            focus.focus()

    @property
    def current_view(self) -> str:
        return (self.query_one(ContentSwitcher).current or "overview-view").removesuffix("-view")

    # Selection: what the focused row points at.

    def _focused_row(self) -> tuple[str, str] | None:
        focused = self.focused
        if isinstance(focused, KeyedTable) and focused.id and focused.selected_key:
            return focused.id, focused.selected_key
        return None

    def selected_run(self) -> Run | None:
        row = self._focused_row()
        if row is None or self.snapshot is None:
            return None
        table, key = row
        if table in ("overview-pipelines", "pipelines-table"):
            return self.snapshot.latest(key)
        if parse_fleet_key(key) is not None:
            return None  # another runner's run: open it (enter) to act on it
        run_id = int(key)
        return next((r for r in self.snapshot.runs if r.id == run_id), None)

    def selected_pipeline(self) -> str | None:
        row = self._focused_row()
        if row is None:
            return None
        table, key = row
        if table in ("overview-pipelines", "pipelines-table"):
            return key
        run = self.selected_run()
        return run.pipeline if run else None

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        table = message.data_table.id
        if table in ("overview-pipelines", "pipelines-table"):
            run = self.snapshot.latest(str(message.row_key.value)) if self.snapshot else None
            if run is None:
                self.notify("No runs yet: press t to trigger one", severity="warning")
                return
            self.shipdeck.open_run(run.id)
        elif message.row_key.value is not None:
            other = parse_fleet_key(str(message.row_key.value))
            if other is not None:
                self.shipdeck.switch_runner(other[0])
                self.shipdeck.open_run(other[1])
                return
            self.shipdeck.open_run(int(message.row_key.value))

    # Actions (hidden and refused in read-only mode).

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in keymap.WRITE_ACTIONS and self.current_view in FLEET_VIEWS:
            return False
        return not (action in keymap.WRITE_ACTIONS and self.shipdeck.read_only)

    def action_refresh(self) -> None:
        self.reload()
        for view in self.query(FleetView):
            view.reload()

    async def action_trigger(self) -> None:
        pipeline = self.selected_pipeline()
        if pipeline is None and self.snapshot and self.snapshot.pipelines:
            pipeline = self.snapshot.pipelines[0].name
        if pipeline is None:
            self.notify("No pipeline selected", severity="warning")
            return
        await actions.trigger(self.shipdeck, pipeline)

    async def _rerun(self, mode: RerunMode) -> None:
        run = self.selected_run()
        if run is None:
            self.notify("Select a run first", severity="warning")
            return
        await actions.rerun(self.shipdeck, run.id, mode)

    async def action_rerun(self) -> None:
        await self._rerun(RerunMode.ALL)

    async def action_rerun_failed(self) -> None:
        await self._rerun(RerunMode.FAILED)

    async def action_cancel(self) -> None:
        run = self.selected_run()
        if run is None:
            self.notify("Select a run first", severity="warning")
            return
        await actions.cancel(self.shipdeck, run.id)
