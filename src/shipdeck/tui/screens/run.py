"""One run: its DAG, live from events, with the selected task's log alongside."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container
from textual.widgets import Static

from shipdeck.formatting import format_duration
from shipdeck.model import (
    EventPage,
    ParamValue,
    PipelineSpec,
    RerunMode,
    RunDetail,
    RunEvent,
    TaskEvent,
    TaskStatus,
)
from shipdeck.model.ids import run_label
from shipdeck.tui import actions, keymap
from shipdeck.tui.current import cockpit_of, follow_runner_events, tick_while_shown
from shipdeck.tui.format import STATUS_WORD, format_param, run_elapsed
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.refused_keys import HidesRefusedKeys
from shipdeck.tui.run_graph import fallback_graph, recorded_graph
from shipdeck.tui.widgets.dag import DagView
from shipdeck.tui.widgets.footer import SteadyFooter
from shipdeck.tui.widgets.header import AppHeader

if TYPE_CHECKING:
    from shipdeck.tui.cockpit import Cockpit

PIPELINE_ACTIONS = ("rerun", "rerun_failed", "rerun_from", "trigger")
"""Actions that need the run's pipeline declared in the workspace."""
ATTENTION = (TaskStatus.FAILED, TaskStatus.INTERRUPTED, TaskStatus.RUNNING, TaskStatus.RETRYING)


def initial_task(detail: RunDetail, spec: PipelineSpec) -> str | None:
    """Where an operator wants to land: the failed task, else a running one, else the first."""
    order = spec.topological_order()
    by_name = {t.name: t for t in detail.tasks}
    for wanted in ATTENTION:
        for name in order:
            task = by_name.get(name)
            if task is not None and task.status == wanted and task.reused_from is None:
                return name
    return order[0] if order else None


class RunScreen(HidesRefusedKeys):
    CSS_PATH = "run.tcss"
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings(
            "back",
            "dag.open-log",
            "rerun",
            "rerun-failed",
            "rerun-from",
            "cancel",
            "trigger",
            "close",
        )
    )

    def __init__(self, run_id: str, *, task: str | None = None, label: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.label = label or (run_label(run_id) if run_label(run_id) != run_id else None)
        """How the run is named while it loads: given by whoever opened it, or its number;
        None for an opaque id (a UUID says nothing to a person: "loading" instead)."""
        self.wanted_task = task
        self.detail: RunDetail | None = None
        self.spec: PipelineSpec | None = None
        self._refreshing = False
        self._refresh_again = False
        self._changes = 0
        """Run and task events of this run applied so far (and resets): a read answered
        after one of them may be older than it, and is read again instead of shown."""
        self.declared = True
        self.declared_tasks = True
        """False for a pipeline whose tasks are known only once they ran (Prefect's)."""
        self.defaults: dict[str, ParamValue] = {}
        """False for a run of a pipeline the workspace does not declare (a deploy run):
        nothing to rerun or trigger."""

    @property
    def cockpit(self) -> Cockpit:
        return cockpit_of(self)

    def compose(self) -> ComposeResult:
        yield AppHeader(f"run {self.label}" if self.label else "run")
        yield Static(f" {self.label or 'run'} loading…", id="run-summary")
        yield Static("", id="run-lineage", markup=False)
        yield Container(id="run-body")
        yield SteadyFooter(compact=True)

    def on_mount(self) -> None:
        tick_while_shown(self, self._paint_summary)
        follow_runner_events(self, self.on_runner_events)
        self.run_worker(self._load(), group="run-load", exclusive=True)

    async def _load(self) -> None:
        app = self.cockpit
        detail = await app.call("Loading run", lambda: app.runner.run(self.run_id))
        if not self.is_attached:  # left while it was read: nothing to draw
            return
        if detail is None:
            self.query_one("#run-summary", Static).update(
                f" {self.label or run_label(self.run_id)} could not be loaded"
            )
            return
        self.label = detail.run.label
        header = self.query_one(AppHeader)
        header.title_text = f"run {self.label}"
        header.refresh()
        declared = await app.call("Loading pipeline", lambda: app.pipeline(detail.run.pipeline))
        self.declared = declared is not None
        self.declared_tasks = bool(declared is not None and declared.tasks)
        self.defaults = dict(declared.params) if declared is not None else {}
        spec = recorded_graph(detail)
        if spec is None:
            spec, note = fallback_graph(detail, declared)
            if note:
                self.notify(note, title=f"Run {self.label}", severity="warning")
        self.detail, self.spec = detail, spec
        dag = DagView(spec, detail.tasks, clock=app.clock, id="dag")
        task = self.wanted_task if self.wanted_task in spec.tasks else initial_task(detail, spec)
        body = self.query_one("#run-body")
        await body.mount(dag)
        if task is not None:
            dag.selected = task
        dag.focus()
        self.refresh_bindings()
        self._paint_summary()
        self._paint_lineage()
        if not detail.run.status.finished:
            # Events that came while this loaded were not applied (a run that ended in that
            # window stayed 'running' here for good): read it once more now that they are.
            self._request_refresh()

    # Summary line.

    def _paint_summary(self) -> None:
        # Gone when the view was replaced while a worker read the run.
        summary = self.query_one_optional("#run-summary", Static)
        if self.detail is None or summary is None:
            return
        app = self.cockpit
        run = self.detail.run
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f" {run.label} ", style="bold")
        text.append(f"{run.pipeline}  ")
        text.append_text(app.palette.badge(run.status, STATUS_WORD.get(run.status, run.status)))
        text.append(f"  {self.detail.tally()}")
        if self.declared and not self.declared_tasks and not run.status.finished:
            text.append(" so far")  # the runner knows only the tasks that ran
        text.append(f"  {format_duration(run_elapsed(run, app.clock()))}")
        if run.parent_id is not None:
            text.append(f"  rerun of {run_label(run.parent_id)}", style=app.palette.muted)
        # Params set for this run come first, so the one that explains it (flaky=true) is
        # not the one an 80-column line cuts off; the pipeline's defaults follow, dimmed.
        changed = {k: v for k, v in run.params.items() if self.defaults.get(k, v) != v}
        for key, value in changed.items():
            text.append(f"  {key}={format_param(value)}", style="bold")
        defaults = [f"{k}={format_param(v)}" for k, v in run.params.items() if k not in changed]
        if defaults:
            text.append(f"  {' '.join(defaults)}", style=app.palette.muted)
        summary.update(text)

    def _paint_lineage(self) -> None:
        """One line under the summary, when the run recorded its code or data: `code 1a2b3c4
        (dirty) · data 3f2a1b0 (2 inputs)`; `shipdeck show` has the details."""
        # Gone when the view was replaced while a worker read the run.
        line = self.query_one_optional("#run-lineage", Static)
        if line is None:
            return
        lineage = self.detail.lineage if self.detail is not None else None
        line.display = lineage is not None and lineage.recorded
        if lineage is None or not lineage.recorded:
            return
        palette = self.cockpit.palette
        text = Text(f" {lineage.summary()}", no_wrap=True, overflow="ellipsis", end="")
        if lineage.reused_code:
            kept = ", ".join(run_label(item.run_id) for item in lineage.reused_code)
            text.append(f" · kept tasks of {kept} ran at other code")
        text.stylize(palette.muted)
        text.highlight_words(["(dirty)", "(dirty?)"], palette.colour("warning"))
        line.update(text)

    # Selection and log.

    async def on_dag_view_selected(self, message: DagView.Selected) -> None:
        body = self.query_one("#run-body")
        panes = body.query(LogPane)
        if panes and panes.first().task_name == message.task:
            return
        await panes.remove()
        if self.selected_task == message.task:  # not already moved on while removing
            await body.mount(
                LogPane(self.cockpit.runner, self.run_id, message.task, classes="run-log")
            )

    @property
    def selected_task(self) -> str | None:
        dag = self._dag()
        return dag.selected if dag is not None else None

    def action_open_log(self) -> None:
        from shipdeck.tui.screens.log import LogScreen

        task = self.selected_task
        if task is not None:
            self.app.push_screen(LogScreen(self.run_id, task))

    def action_back(self) -> None:
        self.app.pop_screen()

    # Live updates.

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        app = self.cockpit
        if runner_index != app.active or self.detail is None:
            return
        for log_pane in self.query(LogPane):
            log_pane.apply_events(page)
        if page.reset:
            self._changes += 1
            self._request_refresh()
            return
        tasks = []
        ended = False
        for event in page.events:
            if event.run_id != self.run_id:
                continue
            if isinstance(event, TaskEvent):
                self._changes += 1
                tasks.append(event.data)
            elif isinstance(event, RunEvent):
                self._changes += 1
                ended |= event.data.status.finished and not self.detail.run.status.finished
                self.detail = self.detail.model_copy(update={"run": event.data})
        grown = self.spec is not None and any(t.name not in self.spec.tasks for t in tasks)
        if tasks:
            merged = {t.name: t for t in self.detail.tasks}
            merged.update({t.name: t for t in tasks})
            self.detail = self.detail.model_copy(update={"tasks": list(merged.values())})
            if (dag := self._dag()) is not None:
                dag.update_tasks(tasks)
        self._paint_summary()
        # Read again: at the end, for the inputs its tasks recorded since this view loaded (no
        # event has them); when a task the graph lacks ran (a runner without a static DAG).
        if ended or grown:
            self._request_refresh()

    def _request_refresh(self) -> None:
        """Read the run again, one read at a time: a refresh is never cut off half-way
        through redrawing the graph (which would leave the view without one); asked again
        meanwhile, it reads once more after."""
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        self.run_worker(self._refresh_until_current(), group="run-refresh")

    async def _refresh_until_current(self) -> None:
        try:
            self._refresh_again = True
            while self._refresh_again:
                self._refresh_again = False
                await self._refresh_detail()
        finally:
            self._refreshing = False

    def _dag(self) -> DagView | None:
        """The graph, once the view has drawn it."""
        dags = self.query(DagView)
        return dags.first() if dags else None

    async def _refresh_detail(self) -> None:
        app = self.cockpit
        changes = self._changes
        detail = await app.call("Refreshing run", lambda: app.runner.run(self.run_id))
        if detail is None or not self.is_attached:  # left while it was read: nothing to draw
            return
        if self._changes != changes:
            # Events came while it was read, maybe newer than what it read (a running run
            # after its cancel showed): read once more rather than show the older.
            self._refresh_again = True
            return
        self.detail = detail
        spec = recorded_graph(detail)
        if spec is not None and self.spec is not None and set(spec.tasks) != set(self.spec.tasks):
            await self._redraw(spec, detail)
        elif (dag := self._dag()) is not None:
            dag.update_tasks(detail.tasks)
        self._paint_summary()
        self._paint_lineage()

    async def _redraw(self, spec: PipelineSpec, detail: RunDetail) -> None:
        """The graph again with the tasks that ran since (the selection kept)."""
        old = self._dag()
        if old is None:
            return
        selected, focused = old.selected, old.has_focus
        self.spec = spec
        dag = DagView(spec, detail.tasks, clock=self.cockpit.clock, id="dag")
        await old.remove()
        await self.query_one("#run-body").mount(dag, before=0)
        if selected in spec.tasks:
            dag.selected = selected
        if focused:
            dag.focus()

    # Actions.

    def refused_action(self, action: str) -> bool:
        """Keys left out of the footer and help, yet dispatched: the action says why nothing
        happens (read-only, or a run of no declared pipeline: a deploy run)."""
        if not self.declared and action in PIPELINE_ACTIONS:
            return True
        app = self.cockpit
        return action in keymap.WRITE_ACTIONS and actions.unable_everywhere(app, action, app.active)

    def _refuse_undeclared(self, what: str) -> bool:
        """Say why a run of no declared pipeline cannot be rerun or triggered; True if so."""
        if self.declared:
            return False
        pipeline = self.detail.run.pipeline if self.detail is not None else ""
        service = pipeline.removeprefix("deploy:")  # a service's deploy runs (engine/runs/store.py)
        if service != pipeline:
            why = f"a deploy of {service}: deploy, promote or roll back it in Deployments (5)"
        else:
            why = f"{pipeline} is not a pipeline of the workspace"
        self.notify(f"{what} refused: {run_label(self.run_id)} is {why}", severity="warning")
        return True

    async def action_rerun(self) -> None:
        if not self._refuse_undeclared("Rerun"):
            await actions.rerun(self, self.run_id, RerunMode.ALL)

    async def action_rerun_failed(self) -> None:
        if not self._refuse_undeclared("Rerun"):
            await actions.rerun(self, self.run_id, RerunMode.FAILED)

    async def action_rerun_from(self) -> None:
        if self._refuse_undeclared("Rerun"):
            return
        task = self.selected_task
        if task is None:
            self.notify("Select a task first", severity="warning")
            return
        await actions.rerun(self, self.run_id, RerunMode.FROM, from_task=task)

    async def action_cancel(self) -> None:
        await actions.cancel(self, self.run_id)

    async def action_trigger(self) -> None:
        if self._refuse_undeclared("Trigger"):
            return
        if self.detail is not None:
            await actions.trigger(self, self.detail.run.pipeline)
