"""The home screen: tabs for the top-level views over one snapshot of the active runner."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import ContentSwitcher, DataTable, Tab, Tabs

from shipdeck import startup
from shipdeck.model import EventKind, EventPage, RerunMode, Run
from shipdeck.runners.protocol import Runner
from shipdeck.tui import actions, keymap, misplaced_keys
from shipdeck.tui.current import cockpit_of, follow_runner_events, tick_while_shown
from shipdeck.tui.fleet import Part, load_part
from shipdeck.tui.refused_keys import HidesRefusedKeys
from shipdeck.tui.view_data.snapshot import Snapshot, load_snapshot
from shipdeck.tui.views.filter import FilterableView, FilterChanged
from shipdeck.tui.views.fleet_runs import (
    FleetRuns,
    Source,
    parse_fleet_key,
    parse_pipeline_key,
    runner_summary,
)
from shipdeck.tui.views.fleet_view import FleetView
from shipdeck.tui.views.overview import OverviewView
from shipdeck.tui.views.pipelines import PipelinesView
from shipdeck.tui.views.registry import BY_ID, VIEWS
from shipdeck.tui.views.runs import RunsView
from shipdeck.tui.widgets.footer import SteadyFooter
from shipdeck.tui.widgets.header import AppHeader
from shipdeck.tui.widgets.table import KeyedTable

if TYPE_CHECKING:
    from shipdeck.tui.cockpit import Cockpit

PIPELINE_TABLES = ("overview-pipelines", "pipelines-table")
RELOAD_INTERVAL = 0.5
RELOAD_ON = frozenset(
    {
        EventKind.RUN,
        EventKind.TASK,
        EventKind.CONFIG,
        EventKind.ALERT_OPENED,
        EventKind.ALERT_CLOSED,
        EventKind.ALERT_ACKNOWLEDGED,
    }
)


class ViewTabs(Tabs, can_focus=False):
    """Tabs that show where you are; number keys switch, so they never take focus."""


class MainScreen(HidesRefusedKeys):
    CSS_PATH = "main.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("trigger", "rerun", "rerun-failed", "cancel", "refresh"),
        *misplaced_keys.hint_bindings("trigger", "rerun", "rerun-failed", "cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.parts: dict[int, Part[Snapshot]] = {}
        """Each runner's latest snapshot (or why it has none); the active one's comes first."""
        self._stale: set[int] = set()
        self._loading: set[int] = set()
        self.filter_words: list[str] = []
        self._landed: tuple[str, str] | None = None
        """The table and row the cursor was last put on for the operator (see `_load`)."""
        self._inputs_at_landing = -1

    @property
    def cockpit(self) -> Cockpit:
        return cockpit_of(self)

    @property
    def snapshot(self) -> Snapshot | None:
        """The active runner's snapshot."""
        return self.snapshot_of(self.cockpit.active)

    def snapshot_of(self, index: int) -> Snapshot | None:
        part = self.parts.get(index)
        return part.data if part is not None else None

    @property
    def fleet(self) -> FleetRuns | None:
        """With several runners, once every one of them has answered (or failed to)."""
        app = self.cockpit
        if len(app.runners) < 2 or len(self.parts) < len(app.runners):
            return None
        return FleetRuns([r.name for r in app.runners], app.active, dict(self.parts))

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield ViewTabs(*(Tab(f"{view.key} {view.tab}", id=view.id) for view in VIEWS))
        first = VIEWS[0]
        with ContentSwitcher(initial=first.widget_id):
            yield first.load()(id=first.widget_id)
        yield SteadyFooter(compact=True)

    def on_mount(self) -> None:
        self.set_interval(RELOAD_INTERVAL, self._reload_if_stale)
        tick_while_shown(self, self._repaint)
        follow_runner_events(self, self.on_runner_events)
        self.reload()

    # Data: one snapshot per runner, each loaded on its own so a slow one never holds up the
    # rest; the others start once the active runner has painted, for a faster first frame.

    def reload(self) -> None:
        self._stale.update(range(len(self.cockpit.runners)))
        self._reload_if_stale()

    def _reload_if_stale(self) -> None:
        active = self.cockpit.active
        for index in sorted(self._stale - self._loading):
            if index != active and self.snapshot is None:
                continue
            self._stale.discard(index)
            self._loading.add(index)
            self.run_worker(self._load(index), group=f"snapshot-{index}")

    async def _load(self, index: int) -> None:
        app = self.cockpit
        runner = app.runners[index]
        try:
            if index == app.active:
                part = await self._load_active(index)
            else:

                async def load(runner: Runner) -> Snapshot:
                    return await load_snapshot(runner, await app.pipelines(index))

                part = await load_part(index, runner, load)
        finally:
            self._loading.discard(index)
        if part is None or not self.is_attached:
            return  # nothing to show, or the app is closing and the views are going
        first = index == app.active and self.snapshot is None
        if first:
            await self._composed()
            if not self.is_attached:
                return
        untouched = self._untouched()
        self.parts[index] = part
        self._repaint()
        overview = self.query_one(OverviewView)
        if first or (untouched and overview.attention() != self._landed):
            # Land on what needs attention, across runners as they answer and as failures
            # become known, until the operator moves: a reload that changes nothing (or
            # comes after a key, a click, or the focus put elsewhere) leaves the cursor be.
            self._landed = overview.land()
            self._inputs_at_landing = app.inputs
        if first:
            self._reload_if_stale()
            self.call_after_refresh(startup.resume)

    def _untouched(self) -> bool:
        """No key or click since the cursor landed, and the focus still on that table."""
        if self.cockpit.inputs != self._inputs_at_landing:
            return False
        focused = self.focused
        return self._landed is None or (focused is not None and focused.id == self._landed[0])

    async def _composed(self) -> None:
        """Wait for the screen's first refresh: a prefetched snapshot can be ready before the
        tables have mounted, and rows added to a table that early never get their height."""
        refreshed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not refreshed.done():
                refreshed.set_result(None)

        self.call_after_refresh(done)
        await refreshed

    async def _load_active(self, index: int) -> Part[Snapshot] | None:
        """The active runner's failures are notifications; its last snapshot stays shown."""
        app = self.cockpit
        runner = app.runners[index]
        first = app.take_first_snapshot(index)
        if first is not None:
            snapshot = await app.call("Loading runs", lambda: first)
        else:
            pipelines = await app.call("Loading pipelines", lambda: app.pipelines(index))
            if pipelines is None:
                return None
            snapshot = await app.call("Loading runs", lambda: load_snapshot(runner, pipelines))
        return None if snapshot is None else Part(index, runner.name, data=snapshot)

    def sources(self) -> list[Source]:
        """What the Overview and Runs show: the active runner's, or every runner's."""
        app = self.cockpit
        if len(app.runners) < 2:
            snapshot = self.snapshot
            return [] if snapshot is None else [Source(app.active, app.runner.name, snapshot)]
        return FleetRuns([r.name for r in app.runners], app.active, self.parts).sources()

    def _repaint(self) -> None:
        snapshot = self.snapshot
        if snapshot is None:
            return
        app = self.cockpit
        now = app.clock()
        many = len(app.runners) > 1
        sources = self.sources()
        self.query_one(OverviewView).update(sources, app.palette, now, many)
        # A view still being mounted (built on first use) is painted once its mount completes.
        for view in self.query(PipelinesView):
            if view.is_mounted:
                view.update(snapshot, app.palette, now)
        self.query_one(OverviewView).show_runners(self._runner_lines(now))

    def _runner_lines(self, now: datetime) -> list[Text]:
        app = self.cockpit
        if len(app.runners) < 2:
            return []
        lines = []
        for index, runner in enumerate(app.runners):
            part = self.parts.get(index)
            snapshot = part.data if part is not None else None
            error = part.error if part is not None else ""
            state = app.connection_state(index)
            lines.append(runner_summary(runner.name, state, snapshot, error, app.palette, now))
        return lines

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        if page.reset or any(e.kind in RELOAD_ON for e in page.events):
            self._stale.add(runner_index)

    # The filter shared by Overview, Runs, Deployments and Timeline.

    def on_filter_changed(self, message: FilterChanged) -> None:
        message.stop()
        shown = BY_ID.get(message.view.removesuffix("-view"))
        if shown is None or not shown.shares_filter:
            return
        self.filter_words = list(message.words)
        self._share_filter(skip=message.view)

    def _share_filter(self, skip: str = "") -> None:
        for view in (v for v in VIEWS if v.shares_filter):
            for widget in self.query(f"#{view.widget_id}"):
                if widget.id == skip:
                    continue
                if isinstance(widget, FilterableView) and widget.is_mounted:
                    widget.apply_filter(self.filter_words)

    # Views.

    def show_view(self, view: str) -> None:
        if view not in BY_ID:
            return
        self.query_one(ViewTabs).active = view

    async def on_tabs_tab_activated(self, message: Tabs.TabActivated) -> None:
        view = BY_ID.get(message.tab.id or "", VIEWS[0])
        switcher = self.query_one(ContentSwitcher)
        if not switcher.query_children(f"#{view.widget_id}"):
            # Views other than the first are built on first use: a faster first frame.
            await switcher.mount(view.load()(id=view.widget_id))
            self._share_filter()
            self._repaint()
        switcher.current = view.widget_id
        self.refresh_bindings()
        shown = self.query_one(f"#{view.widget_id}")
        if isinstance(shown, FleetView):
            shown.focus_table()
            return
        tables = shown.query(KeyedTable)
        focus = next((t for t in tables if t.row_count), None) or (
            tables.first() if tables else None
        )
        if focus is not None:
            focus.focus()

    @property
    def current_view(self) -> str:
        current = self.query_one(ContentSwitcher).current
        return current.removesuffix("-view") if current else VIEWS[0].id

    # Selection: what the focused row points at, and on which runner.

    def _focused_row(self) -> tuple[str, str] | None:
        """The focused table and row key, when the row is a run's or a pipeline's."""
        focused = self.focused
        if focused is not None and focused.id == "overview-alerts":
            return None
        if isinstance(focused, KeyedTable) and focused.id and focused.selected_key:
            return focused.id, focused.selected_key
        return None

    def _pipeline_target(self, key: str) -> tuple[int, str]:
        return parse_pipeline_key(key) or (self.cockpit.active, key)

    def _latest_run(self, key: str) -> tuple[int, Run | None]:
        """A pipeline row's runner and latest run (None: no runs yet)."""
        index, name = self._pipeline_target(key)
        snapshot = self.snapshot_of(index)
        return index, snapshot.latest(name) if snapshot is not None else None

    def selected_target(self) -> tuple[int, Run] | None:
        """The focused row's run (a pipeline row: its latest run) and the runner it is on."""
        row = self._focused_row()
        if row is None:
            return None
        table, key = row
        if table in PIPELINE_TABLES:
            index, latest = self._latest_run(key)
            return (index, latest) if latest is not None else None
        index, run_id = parse_fleet_key(key) or (self.cockpit.active, key)
        snapshot = self.snapshot_of(index)
        run = snapshot.find(run_id) if snapshot is not None else None
        for runs in self.query(RunsView) if run is None else []:
            run = runs.find(index, run_id)
        return (index, run) if run is not None else None

    def selected_run(self) -> Run | None:
        target = self.selected_target()
        return target[1] if target is not None else None

    def selected_pipeline(self) -> tuple[int, str] | None:
        row = self._focused_row()
        if row is not None and row[0] in PIPELINE_TABLES:
            return self._pipeline_target(row[1])
        target = self.selected_target()
        return (target[0], target[1].pipeline) if target is not None else None

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        table = message.data_table.id
        key = message.row_key.value
        if key is None:
            return
        if table == "overview-alerts":
            self.show_view("monitoring")
            return
        if table in PIPELINE_TABLES:
            index, run = self._latest_run(str(key))
            if run is None:
                self.notify("No runs yet: press t to trigger one", severity="warning")
                return
            self.cockpit.nav.open_run_on(index, run.id, label=run.label)
            return
        index, run_id = parse_fleet_key(str(key)) or (self.cockpit.active, str(key))
        target = self.selected_target()
        label = target[1].label if target is not None and target[1].id == run_id else None
        self.cockpit.nav.open_run_on(index, run_id, label=label)

    # Actions (hidden when every runner is read-only; refused per runner, saying so). In a
    # view without run actions, and for other views' write keys, a press says where the key
    # applies.

    def refused_action(self, action: str) -> bool:
        """Keys left out of the footer and help; pressed, the action says why it does
        nothing here."""
        if action == misplaced_keys.HINT_ACTION:
            return True
        if action not in keymap.WRITE_ACTIONS:
            return False
        return not self._run_actions_here or actions.unable_everywhere(self.cockpit, action)

    @property
    def _run_actions_here(self) -> bool:
        return BY_ID[self.current_view].run_actions

    def action_elsewhere(self, binding_id: str) -> None:
        """A write key of another view: say what it does, and where."""
        hint = misplaced_keys.where_it_applies(binding_id, self.cockpit.config.keymap)
        self.notify(hint, severity="warning")

    def _misplaced(self, binding_id: str) -> bool:
        """True (once it has said where the key applies) in a view without run actions."""
        if self._run_actions_here:
            return False
        self.action_elsewhere(binding_id)
        return True

    def action_refresh(self) -> None:
        self.reload()
        for view in self.query(FleetView):
            view.reload()

    async def action_trigger(self) -> None:
        if self._misplaced("trigger") or actions.refuse_everywhere(self, "trigger", "Trigger"):
            return
        target = self.selected_pipeline()
        snapshot = self.snapshot
        if target is None and snapshot is not None and snapshot.pipelines:
            target = (self.cockpit.active, snapshot.pipelines[0].name)
        if target is None:
            self.notify("No pipeline selected", severity="warning")
            return
        index, pipeline = target
        await actions.trigger(self, pipeline, index=index)

    def _run_to_act_on(self, action: str, what: str) -> tuple[int, Run] | None:
        """The selected run for run action `action`; None once it has said why not."""
        if actions.refuse_everywhere(self, action, what):
            return None
        target = self.selected_target()
        if target is None:
            self.notify("Select a run first", severity="warning")
        return target

    async def _rerun(self, mode: RerunMode) -> None:
        if self._misplaced("rerun" if mode == RerunMode.ALL else "rerun-failed"):
            return
        action = "rerun" if mode == RerunMode.ALL else "rerun_failed"
        target = self._run_to_act_on(action, "Rerun")
        if target is not None:
            await actions.rerun(self, target[1].id, mode, index=target[0])

    async def action_rerun(self) -> None:
        await self._rerun(RerunMode.ALL)

    async def action_rerun_failed(self) -> None:
        await self._rerun(RerunMode.FAILED)

    async def action_cancel(self) -> None:
        if self._misplaced("cancel"):
            return
        target = self._run_to_act_on("cancel", "Cancel")
        if target is not None:
            await actions.cancel(self, target[1].id, index=target[0])
