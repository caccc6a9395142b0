"""Deploy, promote or roll back one environment: from -> to, what differs between the two
revisions, each gate's verdict, a reason for the history, then confirmation (prod: type the
service name). The deploy run's log streams live; the outcome (or conflict, or refusal) is shown
where the operator is looking, above the log.

Deploy and roll back pick the revision from a list (deploy: builds, model versions, aliases;
roll back: what the environment held before); moving through it re-plans. Prod dialogs open
with the reason box focused so the operator can type at once: enter goes on to the name box,
enter there acts; up/down move the revision list from either box (and j/k once tab reaches
it). The boxes are only there while there is something to confirm."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

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
    DeployStartedEvent,
    Event,
    EventPage,
    HistoryEntry,
    Outcome,
    RunDetail,
    ServiceSpec,
)
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.current import cockpit_of, follow_runner_events
from shipdeck.tui.deploy_format import LOUD, OUTCOME_COLOUR, OUTCOME_GLYPH
from shipdeck.tui.log.pane import LogPane
from shipdeck.tui.plan_text import describe_plan, diff_refs, revision_run
from shipdeck.tui.view_data.revision_choices import (
    DEPLOY_COLUMNS,
    ROLLBACK_COLUMNS,
    deploy_choices,
    rollback_choices,
)
from shipdeck.tui.widgets.table import KeyedTable

if TYPE_CHECKING:
    from shipdeck.tui.cockpit import Cockpit


BODY_MAX = 14
BODY_MIN = 3
"""Lines of the plan shown at most, and at least however short the screen."""
REASON_MAX = 200
"""Characters a reason may have: a line in the history, not an essay."""

TITLE_VERB = {
    DeployAction.DEPLOY: ("Deploy", "to"),
    DeployAction.PROMOTE: ("Promote", "to"),
    DeployAction.ROLLBACK: ("Roll back", "in"),
}
KEY_VERB = {
    DeployAction.DEPLOY: "deploy",
    DeployAction.PROMOTE: "promote",
    DeployAction.ROLLBACK: "roll back",
}


class ActionScreen(ModalScreen[bool]):
    """Dismisses with True when the environment may have changed (the view reloads)."""

    CSS_PATH = "deploy_modals.tcss"
    AUTO_FOCUS = ""
    """Focus is placed by hand: outside prod, `y` confirms, and the (optional) reason box must
    not be holding the focus to turn it into a letter."""
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
        self.run_id: str | None = None
        self.picked: str | None = None
        """The revision picked from the list (deploy, roll back): what the plan is asked for."""
        self.changed = False

    @property
    def cockpit(self) -> Cockpit:
        return cockpit_of(self)

    @property
    def runner(self) -> Runner:
        return self.cockpit.runners[self.runner_index]

    @property
    def deployer(self) -> Runner:
        """The runner acted on (the Deployments view offers actions only where it deploys)."""
        return self.runner

    @property
    def prod(self) -> bool:
        return self.env == self.spec.environments[-1]

    @property
    def picks(self) -> bool:
        """Whether the operator picks the revision (deploy, roll back) rather than the
        environment before deciding it (promote)."""
        return self.action != DeployAction.PROMOTE

    @property
    def what(self) -> str:
        """`deploy api to dev`, `promote api to prod`, `roll back api in prod`."""
        where = TITLE_VERB[self.action][1]
        return f"{KEY_VERB[self.action]} {self.spec.name} {where} {self.env}"

    def compose(self) -> ComposeResult:
        verb, where = TITLE_VERB[self.action]
        with Vertical(id="dialog", classes="-prod" if self.prod else ""):
            yield Static(
                f"{verb} {self.spec.name} {where} {self.env}", id="dialog-title", markup=False
            )
            if self.picks:
                picks = "↑/↓ picks" if self.prod else "j/k or ↑/↓ picks"
                lead = "Roll back to" if self.action == DeployAction.ROLLBACK else "Revision"
                yield Static(f"{lead} ({picks}):", classes="dialog-note")
                if self.action == DeployAction.ROLLBACK:
                    picker = KeyedTable(ROLLBACK_COLUMNS, id="rollback-targets")
                else:
                    picker = KeyedTable(DEPLOY_COLUMNS, id="deploy-choices")
                yield picker.add_class("revision-picker")
            # Out of the tab order: focus goes between the revision list and the boxes.
            with VerticalScroll(id="dialog-body", can_focus=False):
                yield Static("planning…", id="plan-body")
            with Horizontal(classes="form-row", id="reason-row"):
                yield Label("reason (required)" if self.prod else "reason", classes="form-label")
                yield Input(
                    "",
                    id="reason",
                    classes="form-input",
                    max_length=REASON_MAX,
                    placeholder="why, kept in the history" + ("" if self.prod else " (optional)"),
                )
            if self.prod:
                with Horizontal(classes="form-row", id="confirm-row"):
                    yield Label(f"type {self.spec.name} to confirm", classes="form-label")
                    yield Input("", id="confirm-name", classes="form-input")
            yield Static("", id="dialog-error")
            yield Static("", id="dialog-keys")

    def on_mount(self) -> None:
        self._keys()
        follow_runner_events(self, self.on_runner_events)
        if self.prod:
            self.query_one("#reason", Input).focus()
        if self.picks:
            self.run_worker(self._load_choices(), group="targets", exclusive=True)
        else:
            self.run_worker(self._load_plan(), group="plan", exclusive=True)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_body)

    def _fit_body(self) -> None:
        """The plan gets what the screen has left once the rest of the dialog is shown, so the
        boxes, the outcome and the keys never fall below a short (80x24) screen; a longer plan
        scrolls."""
        if not self.is_attached:
            return
        dialog = self.query_one("#dialog")
        body = self.query_one("#dialog-body")
        others = sum(
            child.outer_size.height
            for child in dialog.children
            if child is not body and child.display
        )
        room = self.size.height - dialog.styles.gutter.height - others
        body.styles.max_height = max(BODY_MIN, min(BODY_MAX, room))

    # Planning.

    async def _load_choices(self) -> None:
        now = self.cockpit.clock()
        try:
            if self.action == DeployAction.ROLLBACK:
                choices = await rollback_choices(self.deployer, self.spec.name, self.env, now)
            else:
                choices = await deploy_choices(self.runner, self.deployer, self.spec, self.env, now)
        except Exception as error:
            self.query_one("#plan-body", Static).update("")
            self._error(str(error))
            self.phase = "done"
            self._show_form(False)
            self._keys()
            return
        table = self.query_one(".revision-picker", KeyedTable)
        table.set_rows([(choice.ref, choice.cells) for choice in choices])
        if not choices:
            self.query_one("#plan-body", Static).update(self._nothing_to_pick())
            self.phase = "done"
            table.display = False
            for note in self.query(".dialog-note"):
                note.display = False
            self._show_form(False)
            self._keys()
            return
        self.picked = choices[0].ref
        if not self.prod:
            table.focus()
        await self._load_plan()

    def _nothing_to_pick(self) -> str:
        if self.action == DeployAction.ROLLBACK:
            return f"{self.env} has no earlier revision to roll back to"
        if self.spec.model:
            return f"no version of model {self.spec.model} is registered yet: run the pipeline"
        return f"no successful run of {self.spec.pipeline} has built anything to deploy yet"

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        message.stop()
        key = message.row_key.value
        if self.phase in ("ready", "loading") and key and key != self.picked:
            self.picked = str(key)
            # The typed name confirms the plan on screen; another revision needs it again.
            for box in self.query("#confirm-name").results(Input):
                box.value = ""
            self.run_worker(self._load_plan(), group="plan", exclusive=True)

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        reason = self.query_one("#reason", Input)
        if not reason.disabled:
            reason.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "move_target":
            return self.picks and self.phase in ("ready", "loading")
        return True

    def action_move_target(self, delta: int) -> None:
        """up/down pick the revision from anywhere in the dialog (the boxes keep focus)."""
        table = self.query_one(".revision-picker", KeyedTable)
        table.move_cursor(row=table.cursor_row + delta)

    def _show_form(self, shown: bool) -> None:
        """The reason and (prod) name boxes, only while there is something to confirm."""
        for row_id, box_id in (("#reason-row", "#reason"), ("#confirm-row", "#confirm-name")):
            for row in self.query(row_id):
                if row.display == shown:
                    continue
                row.display = shown
                box = self.query_one(box_id, Input)
                # Hidden is not enough: a hidden box keeps the focus, and enter would submit it.
                box.disabled = not shown
                if not shown and self.focused is box:
                    self.set_focus(None)
        if shown and self.prod and self.focused is None:
            self.query_one("#reason", Input).focus()

    async def _load_plan(self) -> None:
        self.phase = "loading"
        try:
            plan = await self.deployer.plan(
                self.action, self.spec.name, self.env, revision=self.picked
            )
        except Exception as error:
            self.plan = None
            self.query_one("#plan-body", Static).update("")
            self._error(str(error))
            # With a list, another revision may still plan: it stays live.
            self.phase = "ready" if self.picks and self.picked else "done"
            self._show_form(False)
            self._keys()
            return
        if self._holds_already(plan):
            # The engine would run the deploy again for no change: nothing to offer.
            self.plan = None
            self.phase = "done"
            self._error("")
            self.query_one("#plan-body", Static).update(
                f"{plan.env} already holds {plan.to_revision}, as {plan.source_env} does:"
                " nothing to promote"
            )
            self._show_form(False)
            self._keys()
            return
        diff = await self._diff(plan)
        self.plan = plan
        self.phase = "ready"
        self._error("")
        self.query_one("#plan-body", Static).update(
            describe_plan(plan, *diff, self.cockpit.palette)
        )
        self._show_form(plan.gates_passed)
        self._keys()

    def _holds_already(self, plan: ActionPlan) -> bool:
        """A promote whose source holds what the environment holds already."""
        return self.action == DeployAction.PROMOTE and plan.from_revision == plan.to_revision

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
        verb = KEY_VERB[self.action]
        picking = "   [b]↑/↓[/b] revision" if self.picks else ""
        if self.phase == "ready" and self.plan is not None and self.plan.gates_passed:
            if self.prod:
                go = f"[b]enter[/b] {verb}{picking}   [b]tab[/b] next box"
            else:
                go = f"[b]y[/b] {verb}{picking}   [b]tab[/b] reason"
            keys.update(f"{go}   [b]esc[/b] keep as is")
        elif self.phase == "ready" and self.picks:
            keys.update(f"{picking.strip()}   [b]esc[/b] close")
        elif self.phase == "running":
            keys.update("[b]esc[/b] close (the action carries on)")
        else:
            keys.update("[b]esc[/b] close")
        self.call_after_refresh(self._fit_body)

    def _error(self, message: str) -> None:
        if self.is_attached:
            # Bold as well as red: under NO_COLOR, red is only a grey.
            self.query_one("#dialog-error", Static).update(Text(message, style=LOUD))
            self.call_after_refresh(self._fit_body)

    def _reason(self) -> str:
        return self.query_one("#reason", Input).value.strip()

    # Acting.

    def action_confirm(self) -> None:
        plan = self.plan
        if self.prod and self.phase == "ready" and plan is not None and plan.gates_passed:
            self._error(f"type {self.spec.name} and press enter to {self.what}")
            return
        self._go()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        if message.input.id == "reason":
            if not self.prod:
                self._go()
            elif not self._reason():
                self._error(f"a reason is required for {self.env}: say why, for the history")
            else:
                self._error("")
                self.query_one("#confirm-name", Input).focus()
            return
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
        if self.cockpit.runner_read_only(self.runner_index):
            self._error("refused: read-only mode")
            return
        if not plan.gates_passed:
            failed = "; ".join(f"{g.gate}: {g.reason}" for g in plan.failed_gates)
            self._error(f"refused: gate failed: {failed}")
            return
        reason = self._reason()
        if self.prod and not reason:
            self._error(f"a reason is required for {self.env}: say why, for the history")
            self.query_one("#reason", Input).focus()
            return
        self.phase = "running"
        self._error("")
        # The plan stays in view, shorter; the picker and the boxes have done their job.
        self.query_one("#dialog").add_class("-acting")
        self._show_form(False)
        self.set_focus(None)
        self._keys()
        expect = plan.from_revision or EMPTY_REVISION
        # On the app, not this screen: closing the dialog must not abandon the action.
        self.app.run_worker(self._act(plan, expect, reason), group="deploy-action")

    async def _act(self, plan: ActionPlan, expect: str, reason: str) -> None:
        deployer = self.deployer
        name = self.spec.name
        try:
            # Answered once the deploy run has started; its end is a deploy_finished event.
            if self.action == DeployAction.DEPLOY:
                entry = await deployer.deploy(
                    name, plan.to_revision, self.env, expect=expect, reason=reason, wait=False
                )
            elif self.action == DeployAction.PROMOTE:
                entry = await deployer.promote(
                    name, self.env, expect=expect, reason=reason, wait=False
                )
            else:
                entry = await deployer.rollback(
                    name, self.env, to=plan.to_revision, expect=expect, reason=reason, wait=False
                )
            if entry.run_id is not None and self.run_id is None:
                self._show_log(entry.run_id, "deploy")
            if entry.outcome == Outcome.RUNNING:
                ends = self.cockpit.action_ends
                entry = await ends.wait(self.runner_index, deployer, entry)
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
        self.app.notify(
            f"{self.action.value} {self.spec.name} {self.env}: {entry.outcome.value}",
            severity="information" if entry.outcome == Outcome.SUCCEEDED else "error",
        )

    def _show_log(self, run_id: str, task: str) -> None:
        if not self.is_attached:
            return
        self.run_id = run_id
        dialog = self.query_one("#dialog")
        for pane in self.query(LogPane):
            pane.remove()
        # Under the outcome line, so a long log never pushes the outcome off the screen.
        dialog.mount(LogPane(self.runner, run_id, task), after=self.query_one("#dialog-error"))
        self.call_after_refresh(self._fit_body)

    def _show_outcome(self, outcome: Outcome, detail: str) -> None:
        self.phase = "done"
        if not self.is_attached:
            return
        palette = self.cockpit.palette
        text = Text()
        colour = palette.colour(OUTCOME_COLOUR.get(outcome, "foreground"))
        # The word bold whatever the outcome: it is the answer the operator waited for.
        text.append(f"{OUTCOME_GLYPH.get(outcome, '?')} {outcome.value}", style=colour + LOUD)
        if detail:
            text.append(f": {detail}", style=colour)
        self.query_one("#dialog-error", Static).update(text)
        self._show_form(False)
        self.call_after_refresh(self._fit_body)
        self._keys()

    async def _finish_conflict(self, message: str) -> None:
        """Someone else acted first: say so, and show what the environment holds now."""
        await self._load_plan()
        self._show_outcome(Outcome.CONFLICT, f"{message}; nothing was changed")

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        if runner_index != self.runner_index:
            return
        if self.run_id is None and self.phase == "running":
            # The action's deploy run, as soon as it exists: its log is shown live.
            started = next((e for e in page.events if self._is_ours(e)), None)
            if started is not None and started.run_id is not None:
                self._show_log(started.run_id, "deploy")
        for pane in self.query(LogPane):
            pane.apply_events(page)

    def _is_ours(self, event: Event) -> bool:
        return (
            isinstance(event, DeployStartedEvent)
            and event.data.service == self.spec.name
            and event.data.env == self.env
            and event.data.action == self.action
        )

    def action_back(self) -> None:
        self.dismiss(self.changed or self.phase == "running")
