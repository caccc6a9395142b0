"""The home screen: tabs for the top-level views over one snapshot of the active runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, Tab, Tabs

from shipdeck.model import EventKind, EventPage, RerunMode, Run
from shipdeck.tui import actions, keymap
from shipdeck.tui.data import Snapshot, load_snapshot
from shipdeck.tui.screens.overview import OverviewView
from shipdeck.tui.screens.pipelines import PipelinesView
from shipdeck.tui.screens.runs import RunsView
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.tui.widgets.table import KeyedTable

if TYPE_CHECKING:
    from shipdeck.tui.app import ShipdeckApp

VIEWS = ("overview", "pipelines", "runs")
LAZY_VIEWS: dict[str, type[PipelinesView] | type[RunsView]] = {
    "pipelines": PipelinesView,
    "runs": RunsView,
}
RELOAD_INTERVAL = 0.5


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

    def _repaint(self) -> None:
        if self.snapshot is None:
            return
        app = self.shipdeck
        now = app.clock()
        self.query_one(OverviewView).update(self.snapshot, app.palette, now)
        for view in self.query(PipelinesView):
            view.update(self.snapshot, app.palette, now)
        for runs in self.query(RunsView):
            runs.update(self.snapshot, app.palette, now)

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        if runner_index != self.shipdeck.active:
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
            await switcher.mount(LAZY_VIEWS[view](id=f"{view}-view"))
            self._repaint()
        switcher.current = f"{view}-view"
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
            self.shipdeck.open_run(int(message.row_key.value))

    # Actions (hidden and refused in read-only mode).

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in keymap.WRITE_ACTIONS and self.shipdeck.read_only)

    def action_refresh(self) -> None:
        self.reload()

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
