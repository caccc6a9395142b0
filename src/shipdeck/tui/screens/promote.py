"""Promote or roll back one environment: from -> to, what differs between the two revisions,
each gate's verdict, then confirmation (prod: type the service name). The deploy run's log
streams live; the outcome (or conflict, or refusal) is shown where the operator is looking.

Prod dialogs, promote and roll back alike, open with the name box focused so the operator can
type at once; a roll back's revision list moves with up/down from there (and with j/k once
tab reaches it). The name box is only there while there is something to confirm."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from shipdeck.errors import Conflict, Refused
from shipdeck.model import (
    EMPTY_REVISION,
    ActionPlan,
    Comparison,
    DeployAction,
    EventPage,
    HistoryEntry,
    Outcome,
    RunDetail,
    ServiceSpec,
)
from shipdeck.runners.protocol import DeployRunner, Runner
from shipdeck.tui import keymap
from shipdeck.tui.current import shipdeck_app
from shipdeck.tui.deploy_format import OUTCOME_COLOUR, OUTCOME_GLYPH
from shipdeck.tui.fleet import deploy_runner, runner_read_only
from shipdeck.tui.format import format_age
from shipdeck.tui.plan_text import describe_plan, diff_refs, revision_run
from shipdeck.tui.widgets.log_pane import LogPane
from shipdeck.tui.widgets.table import KeyedTable

if TYPE_CHECKING:
    from shipdeck.tui.app import ShipdeckApp

IN_FLIGHT_POLL = 0.1


class ActionScreen(ModalScreen[bool]):
    """Dismisses with True when the environment may have changed (the view reloads)."""

    CSS_PATH = "deploy_modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("confirm.yes", "rollback.newer", "rollback.older"),
        keymap.ALL_BINDINGS["back"],
    ]

    def __init__(
        self, runner_index: int, spec: ServiceSpec, action: DeployAction, env: str
    ) -> None:
        super().__init__()
        self.runner_index = runner_index
        self.spec = spec
        self.action = action
        self.env = env
        self.plan: ActionPlan | None = None
        self.phase = "loading"
        """loading, ready, running, done."""
        self.entry: HistoryEntry | None = None
        self.run_id: int | None = None
        self.rollback_to: str | None = None
        self.changed = False

    @property
    def shipdeck(self) -> ShipdeckApp:
        return shipdeck_app(self)

    @property
    def runner(self) -> Runner:
        return self.shipdeck.runners[self.runner_index]

    @property
    def deployer(self) -> DeployRunner:
        deployer = deploy_runner(self.runner)
        assert deployer is not None, "the view only offers actions on deploy runners"
        return deployer

    @property
    def prod(self) -> bool:
        return self.env == self.spec.environments[-1]

    @property
    def what(self) -> str:
        """`promote api to prod`, `roll back api in prod`."""
        if self.action == DeployAction.PROMOTE:
            return f"promote {self.spec.name} to {self.env}"
        return f"roll back {self.spec.name} in {self.env}"

    def compose(self) -> ComposeResult:
        verb = "Promote" if self.action == DeployAction.PROMOTE else "Roll back"
        where = "to" if self.action == DeployAction.PROMOTE else "in"
        with Vertical(id="dialog", classes="-prod" if self.prod else ""):
            yield Static(
                f"{verb} {self.spec.name} {where} {self.env}", id="dialog-title", markup=False
            )
            if self.action == DeployAction.ROLLBACK:
                picks = "↑/↓ picks" if self.prod else "j/k or ↑/↓ picks"
                yield Static(f"Roll back to ({picks}):", classes="dialog-note")
                yield KeyedTable(
                    [("revision", "revision"), ("at", "deployed"), ("by", "by"), ("how", "how")],
                    id="rollback-targets",
                )
            # Out of the tab order: focus goes between the revision list and the name box.
            with VerticalScroll(id="dialog-body", can_focus=False):
                yield Static("planning…", id="plan-body")
            if self.prod:
                with Horizontal(classes="form-row", id="confirm-row"):
                    yield Label(f"type {self.spec.name} to confirm", classes="form-label")
                    yield Input("", id="confirm-name", classes="form-input")
            yield Static("", id="dialog-error")
            yield Static("", id="dialog-keys")

    def on_mount(self) -> None:
        self._keys()
        if self.prod:
            self.query_one("#confirm-name", Input).focus()
        if self.action == DeployAction.ROLLBACK:
            self.run_worker(self._load_targets(), group="targets", exclusive=True)
        else:
            self.run_worker(self._load_plan(), group="plan", exclusive=True)

    # Planning.

    async def _load_targets(self) -> None:
        try:
            history = await self.deployer.history(self.spec.name, self.env, limit=100)
            states = await self.deployer.deployments()
        except Exception as error:
            self._error(str(error))
            return
        current = next(
            (s.revision for s in states if s.service == self.spec.name and s.env == self.env),
            None,
        )
        seen: dict[str, HistoryEntry] = {}
        for entry in history:
            if entry.outcome == Outcome.SUCCEEDED and entry.to_revision != current:
                seen.setdefault(entry.to_revision, entry)
        table = self.query_one("#rollback-targets", KeyedTable)
        now = self.shipdeck.clock()
        table.set_rows(
            [
                (
                    revision,
                    [revision, format_age(entry.at, now), entry.user, entry.action.value],
                )
                for revision, entry in seen.items()
            ]
        )
        if not seen:
            self.query_one("#plan-body", Static).update(
                f"{self.env} has no earlier revision to roll back to"
            )
            self.phase = "done"
            table.display = False
            for note in self.query(".dialog-note"):
                note.display = False
            self._show_confirm(False)
            self._keys()
            return
        self.rollback_to = next(iter(seen))
        if not self.prod:
            table.focus()
        await self._load_plan()

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        message.stop()
        key = message.row_key.value
        if self.phase in ("ready", "loading") and key and key != self.rollback_to:
            self.rollback_to = str(key)
            # The typed name confirms the plan on screen; another revision needs it again.
            for box in self.query("#confirm-name").results(Input):
                box.value = ""
            self.run_worker(self._load_plan(), group="plan", exclusive=True)

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        if self.prod:
            self.query_one("#confirm-name", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "move_target":
            return self.action == DeployAction.ROLLBACK and self.phase in ("ready", "loading")
        return True

    def action_move_target(self, delta: int) -> None:
        """up/down pick the revision from anywhere in the dialog (the name box keeps focus)."""
        table = self.query_one("#rollback-targets", KeyedTable)
        table.move_cursor(row=table.cursor_row + delta)

    def _show_confirm(self, shown: bool) -> None:
        """The name box (prod) only while there is something to confirm."""
        for row in self.query("#confirm-row"):
            if row.display == shown:
                continue
            row.display = shown
            box = self.query_one("#confirm-name", Input)
            # Hidden is not enough: a hidden box keeps the focus, and enter would submit it.
            box.disabled = not shown
            if shown and self.focused is None:
                box.focus()
            elif not shown and self.focused is box:
                self.set_focus(None)

    async def _load_plan(self) -> None:
        self.phase = "loading"
        try:
            plan = await self.deployer.plan(
                self.action, self.spec.name, self.env, revision=self.rollback_to
            )
        except Exception as error:
            self.plan = None
            self.query_one("#plan-body", Static).update("")
            self._error(str(error))
            self.phase = "done"
            self._show_confirm(False)
            self._keys()
            return
        diff = await self._diff(plan)
        self.plan = plan
        self.phase = "ready"
        self.query_one("#plan-body", Static).update(
            describe_plan(plan, *diff, self.shipdeck.palette)
        )
        self._show_confirm(plan.gates_passed)
        self._keys()

    async def _diff(self, plan: ActionPlan) -> tuple[Comparison | None, RunDetail | None]:
        refs = diff_refs(self.spec, plan.from_revision, plan.to_revision)
        comparison = None
        if refs is not None:
            try:
                comparison = await self.deployer.compare(refs)
            except Exception:
                comparison = None
        built = None
        run_id = revision_run(plan.to_revision)
        if not self.spec.model and run_id is not None:
            try:
                built = await self.runner.run(run_id)
            except Exception:
                built = None
        return comparison, built

    def _keys(self) -> None:
        keys = self.query_one("#dialog-keys", Static)
        verb = "promote" if self.action == DeployAction.PROMOTE else "roll back"
        if self.phase == "ready" and self.plan is not None and self.plan.gates_passed:
            go = f"[b]enter[/b] {verb}" if self.prod else f"[b]y[/b] {verb}"
            if self.action == DeployAction.ROLLBACK and self.prod:
                go += "   [b]↑/↓[/b] revision"
            keys.update(f"{go}   [b]esc[/b] keep as is")
        elif self.phase == "running":
            keys.update("[b]esc[/b] close (the action carries on)")
        else:
            keys.update("[b]esc[/b] close")

    def _error(self, message: str) -> None:
        if self.is_attached:
            self.query_one("#dialog-error", Static).update(Text(message))

    # Acting.

    def action_confirm(self) -> None:
        plan = self.plan
        if self.prod and self.phase == "ready" and plan is not None and plan.gates_passed:
            self._error(f"type {self.spec.name} and press enter to {self.what}")
            return
        self._go()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        if message.value.strip() != self.spec.name:
            self._error(f"type {self.spec.name} exactly to {self.what}")
            return
        self._go()

    def _go(self) -> None:
        plan = self.plan
        if self.phase == "loading":
            self._error("still planning: confirm once the plan is shown")
            return
        if self.phase != "ready" or plan is None:
            return
        if runner_read_only(self.app, self.runner_index):
            self._error("refused: read-only mode")
            return
        if not plan.gates_passed:
            failed = "; ".join(f"{g.gate}: {g.reason}" for g in plan.failed_gates)
            self._error(f"refused: gate failed: {failed}")
            return
        self.phase = "running"
        self._error("")
        self._keys()
        expect = plan.from_revision or EMPTY_REVISION
        # On the app, not this screen: closing the dialog must not abandon the action.
        self.shipdeck.run_worker(self._act(plan, expect), group="deploy-action")

    async def _act(self, plan: ActionPlan, expect: str) -> None:
        deployer = self.deployer
        watcher = asyncio.create_task(self._watch_run())
        try:
            if self.action == DeployAction.PROMOTE:
                entry = await deployer.promote(
                    self.spec.name, self.env, expect=expect, reason="tui"
                )
            else:
                entry = await deployer.rollback(
                    self.spec.name, self.env, to=plan.to_revision, expect=expect, reason="tui"
                )
        except Conflict as error:
            await self._finish_conflict(str(error))
            return
        except Refused as error:
            self._show_outcome(Outcome.REFUSED, str(error))
            return
        except Exception as error:
            self._show_outcome(Outcome.FAILED, str(error))
            return
        finally:
            watcher.cancel()
            self.changed = True
        self.entry = entry
        if entry.run_id is not None and self.run_id is None:
            self._show_log(entry.run_id, "deploy")
        if entry.outcome == Outcome.SUCCEEDED:
            self._show_outcome(entry.outcome, f"{self.env} now holds {entry.to_revision}")
        else:
            if entry.run_id is not None and "health" in entry.detail.split(" ", 1)[0]:
                self._show_log(entry.run_id, "health")
            self._show_outcome(entry.outcome, entry.detail)
        self.shipdeck.notify(
            f"{self.action.value} {self.spec.name} {self.env}: {entry.outcome.value}",
            severity="information" if entry.outcome == Outcome.SUCCEEDED else "error",
        )

    async def _watch_run(self) -> None:
        """Find the action's deploy run as soon as it exists, to stream its log."""
        while self.run_id is None:
            try:
                states = await self.deployer.deployments()
            except Exception:
                states = []
            for state in states:
                flight = state.in_flight
                if (
                    state.service == self.spec.name
                    and state.env == self.env
                    and flight is not None
                    and flight.run_id is not None
                ):
                    self._show_log(flight.run_id, "deploy")
                    return
            await asyncio.sleep(IN_FLIGHT_POLL)

    def _show_log(self, run_id: int, task: str) -> None:
        if not self.is_attached:
            return
        self.run_id = run_id
        dialog = self.query_one("#dialog")
        for pane in self.query(LogPane):
            pane.remove()
        dialog.mount(LogPane(self.runner, run_id, task), before=self.query_one("#dialog-error"))

    def _show_outcome(self, outcome: Outcome, detail: str) -> None:
        self.phase = "done"
        if not self.is_attached:
            return
        palette = self.shipdeck.palette
        text = Text()
        colour = palette.colour(OUTCOME_COLOUR.get(outcome, "foreground"))
        text.append(
            f"{OUTCOME_GLYPH.get(outcome, '?')} {outcome.value}", style=colour + Style(bold=True)
        )
        if detail:
            text.append(f": {detail}", style=colour)
        self.query_one("#dialog-error", Static).update(text)
        self._show_confirm(False)
        self._keys()

    async def _finish_conflict(self, message: str) -> None:
        """Someone else acted first: say so, and show what the environment holds now."""
        await self._load_plan()
        self._show_outcome(Outcome.CONFLICT, f"{message}; nothing was changed")

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        if runner_index != self.runner_index or self.run_id is None:
            return
        for pane in self.query(LogPane):
            pane.apply_events(page)

    def action_back(self) -> None:
        self.dismiss(self.changed or self.phase == "running")
