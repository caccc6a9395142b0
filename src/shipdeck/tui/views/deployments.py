"""Deployments: services x environments (revision, age, who, health, key metric), the prod
column standing out; enter opens an environment's history, `d` deploys a revision to it, `p`
promotes, `b` rolls back."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import DataTable, Static

from shipdeck.formatting import format_age, format_metric, plural
from shipdeck.model import DeployAction, Outcome
from shipdeck.model.ids import run_label
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.actions import refuse_if_read_only
from shipdeck.tui.deploy_format import (
    HEALTH_GLYPH,
    HEALTH_WORD,
    LOUD,
    OUTCOME_GLYPH,
    health_style,
    live_mark,
    live_text,
    outcome_style,
)
from shipdeck.tui.format import clip, clip_name
from shipdeck.tui.palette import Palette
from shipdeck.tui.view_data.deployments import DeployData, ServiceState, load_deployments
from shipdeck.tui.views.filter import FilterInput
from shipdeck.tui.views.fleet_view import FleetView

PROD = "prod"


def short_user(user: str | None) -> str:
    return (user or "").split("@", 1)[0]


def is_prod(env: str, service: ServiceState | None = None) -> bool:
    return env == PROD or (service is not None and env == service.spec.environments[-1])


class MatrixTable(DataTable[Text]):
    """A cell cursor over services x environments, each row two lines high."""

    DEFAULT_CSS = """
    MatrixTable { height: auto; max-height: 1fr; background: $surface; }
    MatrixTable > .datatable--header { background: $surface; color: $foreground 60%; }
    MatrixTable:blur > .datatable--cursor { background: $surface; text-style: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *keymap.bindings("list.down", "list.up", "list.first", "list.last"),
        *keymap.bindings("deploy.open", "deploy.left", "deploy.right"),
    ]

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=self.row_count - 1)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="cell", zebra_stripes=False)
        self.row_keys: list[str] = []
        self.envs: list[str] = []

    def fill(self, envs: list[str], header: list[Text], rows: list[tuple[str, list[Text]]]) -> None:
        row, column = self.cursor_coordinate
        selected = self.row_keys[row] if 0 <= row < len(self.row_keys) else None
        # Columns are rebuilt each time so their widths fit what is shown now, not the widest
        # thing ever shown (an in-flight marker would otherwise widen a column for good).
        self.clear(columns=True)
        self.add_column(header[0], key="service")
        for env, label in zip(envs, header[1:], strict=True):
            self.add_column(label, key=f"env:{env}")
        self.envs = envs
        for key, cells in rows:
            self.add_row(*cells, key=key, height=2)
        self.row_keys = [key for key, _ in rows]
        if selected in self.row_keys:
            row = self.row_keys.index(selected)
        self.move_cursor(row=min(row, max(len(rows) - 1, 0)), column=max(column, 1), animate=False)

    def selected_cell(self) -> tuple[str, str] | None:
        """(row key, environment) under the cursor."""
        row, column = self.cursor_coordinate
        if not 0 <= row < len(self.row_keys):
            return None
        env = self.envs[column - 1] if column >= 1 else (self.envs[0] if self.envs else "")
        return self.row_keys[row], env

    def action_open_env(self) -> None:
        self.action_select_cursor()

    def action_cursor_left(self) -> None:
        if self.cursor_coordinate.column > 1:
            super().action_cursor_left()


class DeploymentsView(FleetView[DeployData]):
    DEFAULT_CSS = """
    DeploymentsView { height: 1fr; }
    DeploymentsView .view-status { height: 1; padding: 0 1; color: $foreground 70%; }
    DeploymentsView #deploy-detail { height: auto; max-height: 4; padding: 0 1;
        background: $panel; }
    """
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings("deploy.deploy", "deploy.promote", "deploy.rollback", "filter")
    )

    def compose(self) -> ComposeResult:
        yield Static("", id="deploy-status", classes="view-status")
        yield MatrixTable(id="deploy-matrix")
        yield Static("", id="deploy-detail")
        yield FilterInput(placeholder="filter: service, environment, runner", id="deploy-filter")

    async def load(self, index: int, runner: Runner) -> DeployData:
        return await load_deployments(runner)

    # Painting.

    def services(self) -> list[tuple[int, ServiceState]]:
        app = self.cockpit
        result = []
        for index, data in self.answered():
            for service in data.services:
                words = f"{service.spec.name} {app.runners[index].name} {service.spec.source}"
                words += " " + " ".join(service.spec.environments)
                if all(w in words.lower() for w in self.filter_words):
                    result.append((index, service))
        return result

    def paint(self) -> None:
        app = self.cockpit
        palette = app.palette
        now = app.clock()
        services = self.services()
        envs: dict[str, None] = {}
        for _, service in services:
            envs.update(dict.fromkeys(service.spec.environments))
        env_list = list(envs)
        header = [Text("service")]
        for env in env_list:
            label = Text(env.upper() if is_prod(env) else env)
            if is_prod(env):
                label.stylize(palette.colour("error") + Style(bold=True))
            header.append(label)
        rows = []
        for index, service in services:
            name = Text(clip_name(service.spec.name), style="bold", no_wrap=True)
            second = app.runners[index].name if self.many else service.spec.source
            name.append("\n" + clip(second, 14), style=palette.muted)
            cells = [name]
            for env in env_list:
                cells.append(self._cell(service, env, palette, now))
            rows.append((f"{index}:{service.spec.name}", cells))
        self.query_one(MatrixTable).fill(env_list, header, rows)
        empty = all(
            s.state(env).revision is None for _, s in services for env in s.spec.environments
        )
        self._paint_status(len(rows), nothing_deployed=empty and bool(services))
        self._paint_detail()

    def _cell(self, service: ServiceState, env: str, palette: Palette, now: datetime) -> Text:
        if env not in service.spec.environments:
            return Text("·", style=palette.muted)
        state = service.state(env)
        text = Text(no_wrap=True, overflow="ellipsis")
        if state.revision is None:
            text.append("(empty)", style=palette.muted)
        else:
            text.append(state.revision, style="bold")
        health = state.health if state.health_revision == state.revision else None
        if state.revision is not None:
            text.append(f" {HEALTH_GLYPH[health]}{HEALTH_WORD[health]}")
            text.stylize(health_style(health, palette), len(state.revision) + 1)
        live = service.live.get(env)
        if live is not None and state.revision is not None:
            text.append(" ")
            text.append_text(live_mark(live, palette))
        if state.in_flight is not None:
            text.append(f" ● {state.in_flight.action.value}…", style=palette.colour("accent"))
        else:
            last = service.last_action.get(env)
            if last is not None and last.outcome not in (Outcome.SUCCEEDED, Outcome.RUNNING):
                glyph = OUTCOME_GLYPH.get(last.outcome, "!")
                text.append(f" {glyph}{last.to_revision}", style=palette.colour("error") + LOUD)
        line = []
        if state.since is not None:
            line.append(format_age(state.since, now).removesuffix(" ago"))
        if state.user:
            line.append(short_user(state.user))
        if service.key_metric and state.revision in service.metrics:
            line.append(f"{service.key_metric} {format_metric(service.metrics[state.revision])}")
        text.append("\n" + " ".join(line), style=palette.muted)
        if is_prod(env, service):
            text.stylize("bold", 0, len(text.plain.split("\n")[0]))
        return text

    def _paint_status(self, shown: int, *, nothing_deployed: bool = False) -> None:
        palette = self.cockpit.palette
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if self.parts and not shown and self.filter_words:
            text.append(" no service matches the filter (esc clears it)", style=palette.muted)
        elif self.parts and not shown:
            text.append(" no services: add [services.NAME] to shipdeck.toml", style=palette.muted)
        else:
            text.append(f" {plural(shown, 'service')}", style=palette.muted)
        if nothing_deployed:
            # Short enough for 80 columns: the line is cut, not wrapped.
            text.append(", nothing deployed yet", style=palette.muted)
            if not self.read_only(self.cockpit.active):
                text.append(": press ", style=palette.muted)
                text.append("d", style="bold")
                text.append(" on an environment to deploy", style=palette.muted)
        if self.filter_words:
            text.append(f"  /{' '.join(self.filter_words)}", style="bold")
        self.query_one("#deploy-status", Static).update(self.with_runners(text))

    def selected(self) -> tuple[int, ServiceState, str] | None:
        cell = self.query_one(MatrixTable).selected_cell()
        if cell is None:
            return None
        key, env = cell
        index_text, name = key.split(":", 1)
        part = self.parts.get(int(index_text))
        service = part.data.service(name) if part and part.data else None
        if service is None or env not in service.spec.environments:
            return None
        return int(index_text), service, env

    def _paint_detail(self) -> None:
        palette = self.cockpit.palette
        now = self.cockpit.clock()
        detail = self.query_one("#deploy-detail", Static)
        selected = self.selected()
        if selected is None:
            detail.update(Text("select an environment", style=palette.muted))
            return
        index, service, env = selected
        state = service.state(env)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{service.spec.name}/{env}", style="bold")
        text.append(f"  {state.revision or '(empty)'}")
        if state.since:
            text.append(f" since {format_age(state.since, now)} by {state.user or '?'}")
        if state.run_id:
            text.append(f"  run {run_label(state.run_id)}")
        health = state.health if state.health_revision == state.revision else None
        if state.revision is not None:
            text.append(
                f"  health {HEALTH_GLYPH[health]}{HEALTH_WORD[health]}",
                style=health_style(health, palette),
            )
        live = service.live.get(env)
        if live is not None and state.revision is not None:
            text.append("\n")
            text.append_text(live_text(live, palette, now))
        last = service.last_action.get(env)
        if last is None and not self.read_only(index):
            text.append("\nd deploys a build or model version here", style=palette.muted)
        if last is not None:
            colour = outcome_style(last.outcome, palette)
            text.append("\nlast: ")
            auto = "auto " if last.automatic else ""
            text.append(
                f"{OUTCOME_GLYPH.get(last.outcome, '?')} {auto}{last.action.value}"
                f" {last.from_revision or '∅'} → {last.to_revision} {last.outcome.value}",
                style=colour,
            )
            if last.outcome != Outcome.SUCCEEDED and last.detail:
                text.append(f": {last.detail}", style=colour)
        detail.update(text)

    def on_data_table_cell_highlighted(self, message: DataTable.CellHighlighted) -> None:
        message.stop()
        self._paint_detail()

    def focus_table(self) -> None:
        self.query_one(MatrixTable).focus()

    # Actions.

    def refused_action(self, action: str) -> bool:
        """Hidden from the footer and help on a read-only runner's row; pressed anyway, the
        action says it is refused."""
        if action in keymap.DEPLOY_WRITE_ACTIONS:
            selected = self.selected()
            index = selected[0] if selected else self.cockpit.active
            return self.read_only(index)
        return False

    def on_data_table_cell_selected(self, message: DataTable.CellSelected) -> None:
        message.stop()
        self.action_open_env()

    def action_open_env(self) -> None:
        from shipdeck.tui.screens.env_history import EnvHistoryScreen

        selected = self.selected()
        if selected is not None:
            index, service, env = selected
            self.app.push_screen(EnvHistoryScreen(index, service.spec.name, env))

    def _act(self, action: DeployAction) -> None:
        from shipdeck.tui.dialogs.promote import ActionScreen

        selected = self.selected()
        if selected is None:
            self.notify("Select an environment first", severity="warning")
            return
        index, service, env = selected
        what = {
            DeployAction.DEPLOY: "Deploy",
            DeployAction.PROMOTE: "Promote",
            DeployAction.ROLLBACK: "Roll back",
        }[action]
        if refuse_if_read_only(self, what, index):
            return
        if action == DeployAction.PROMOTE:
            target = service.next_env(env)
            if target is None:
                target = env if service.previous_env(env) else None
            if target is None:
                self.notify(f"{service.spec.name} has nowhere to promote to", severity="warning")
                return
            env = target

        def done(changed: bool | None) -> None:
            self._stale.add(index)

        self.app.push_screen(ActionScreen(index, service.spec, action, env), done)

    def action_deploy(self) -> None:
        self._act(DeployAction.DEPLOY)

    def action_promote(self) -> None:
        self._act(DeployAction.PROMOTE)

    def action_rollback(self) -> None:
        self._act(DeployAction.ROLLBACK)
