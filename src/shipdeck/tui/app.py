"""The shipdeck Textual app: runners in, views out. Built by `create_app` with its runners."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import ClassVar, TypedDict, TypeVar

from textual import events
from textual.app import App
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.signal import Signal

from shipdeck import startup
from shipdeck.model import ConfigEvent, EventKind, EventPage
from shipdeck.model.capabilities import EventDelivery
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.cockpit import Cockpit
from shipdeck.tui.commands import ShipdeckCommands
from shipdeck.tui.config import TuiConfig, load_config
from shipdeck.tui.format import Clock, system_clock
from shipdeck.tui.palette import Palette
from shipdeck.tui.themes import DEFAULT_THEME, bundled_themes_dir, load_themes
from shipdeck.tui.views.registry import VIEWS
from shipdeck.tui.widgets.header import AppHeader

T = TypeVar("T")

FOLLOW_WAIT = 10.0
FOLLOW_PAGE = 1000
"""Events per request: small pages keep each burst of work short, so keys stay responsive."""
RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0)
STARTUP_GRACE = 5.0
"""Seconds after which garbage collection resumes even if no first frame came (a runner
down): normally the main screen resumes it once its first snapshot is painted."""
PIPELINES_TTL = 5.0
"""Seconds a runner's list of pipelines is reused before it is asked again."""
TICK = 1.0
"""Seconds between repaints of relative times ("12s ago", elapsed) in the views shown."""


class AppOptions(TypedDict, total=False):
    """How `create_app` builds the app besides its runners (ShipdeckApp's keywords)."""

    read_only: bool
    """Hide and refuse every action (also when the user config says so)."""
    theme: str | None
    clock: Clock
    config: TuiConfig | None
    """None reads the user's config file."""
    extra_themes_dir: Path | None
    warnings: list[str] | None
    """Shown once it opens (the first line as the title of the rest)."""


class ShipdeckApp(App[int]):
    TITLE = "shipdeck"
    CSS_PATH = "app.tcss"
    COMMANDS: ClassVar = App.COMMANDS | {ShipdeckCommands}
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings(*(view.binding_id for view in VIEWS), "help", "quit", "quit-now")
    )

    def __init__(
        self,
        runners: list[Runner],
        *,
        read_only: bool = False,
        theme: str | None = None,
        clock: Clock = system_clock,
        config: TuiConfig | None = None,
        extra_themes_dir: Path | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        super().__init__()
        self._warnings = list(warnings or [])
        config = load_config() if config is None else config
        self.config = config
        self._theme_choice = theme
        self._extra_themes_dir = extra_themes_dir
        self.cockpit = Cockpit(
            runners,
            clock=clock,
            config=config,
            read_only=read_only,
            palette=Palette(self.get_css_variables(), no_color=self.no_color),
            notify=self._notify_for_cockpit,
            nav=self,
            on_capabilities=self.refresh_bindings,
        )
        """What the views, dialogs and screens use (`current.cockpit`)."""
        self.ticks: Signal[datetime] = Signal(self, "ticks")
        """Every TICK seconds, the clock's reading: views that show ages repaint them."""
        self.runner_events: Signal[tuple[int, EventPage]] = Signal(self, "runner-events")
        """Each page of events from any runner, with the runner's index: the one way events
        reach screens and views (subscribe with `current.follow_runner_events`)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification as plain text: they carry user and runner text (`[keymap]` in a
        config problem, `[Errno 104]` in an error) that markup would swallow or choke on."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _notify_for_cockpit(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information"
    ) -> None:
        """The cockpit's notices go through `notify` as it is when they are raised."""
        self.notify(message, title=title, severity=severity)

    # Navigation (the cockpit's Navigator).

    def switch_runner(self, index: int) -> None:
        cockpit = self.cockpit
        if index == cockpit.active or not 0 <= index < len(cockpit.runners):
            return
        cockpit.active = index
        while len(self.screen_stack) > 2:
            self.pop_screen()
        from shipdeck.tui.screens.main import MainScreen

        if isinstance(self.screen, MainScreen):
            self.screen.reload()
        self.refresh_bindings()
        self.notify(f"Runner: {cockpit.runner.name}")

    # Lifecycle.

    def on_load(self) -> None:
        """Ask the active runner for the first snapshot before the screens are even built:
        a runner in another process (the workspace daemon, a remote) prepares it while this
        one sets up the terminal, parses styles and composes the views."""
        self.cockpit.prefetch_first_snapshot()

    def on_unmount(self) -> None:
        self.cockpit.drop_first_snapshot()

    def on_mount(self) -> None:
        themes, problems = load_themes(
            bundled_themes_dir(), self.config.themes_dir, self._extra_themes_dir
        )
        for theme in themes:
            self.register_theme(theme)
        wanted = self._theme_choice or self.config.theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            problems.append(f"unknown theme {wanted!r}; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        self.theme = wanted
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self._on_theme_changed(None)
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        for problem in [*self.config.problems, *problems]:
            self.notify(problem, title="config", severity="warning", timeout=8)
        if self._warnings:
            title, *lines = self._warnings
            self.notify("\n".join(lines) or title, title=title, severity="error", timeout=30)

        from shipdeck.tui.screens.main import MainScreen

        self.set_timer(STARTUP_GRACE, startup.resume)
        self.set_interval(TICK, lambda: self.ticks.publish(self.cockpit.clock()))
        self.push_screen(MainScreen())
        for index in range(len(self.cockpit.runners)):
            self.run_worker(self._follow(index), group=f"follow-{index}", name=f"follow-{index}")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown) and not event.is_forwarded:
            self.cockpit.inputs += 1
        await super().on_event(event)

    def _on_theme_changed(self, _theme: object) -> None:
        self.cockpit.palette = Palette(self.get_css_variables(), no_color=self.no_color)

    async def _follow(self, index: int) -> None:
        """Follow one runner's event stream for the app's lifetime and fan pages out."""
        cockpit = self.cockpit
        runner = cockpit.runners[index]
        after: int | None = None
        failures = 0
        while True:
            try:
                if after is None:
                    declared = await runner.capabilities()
                    cockpit.learn_capabilities(index, declared)
                    if declared.events == EventDelivery.NONE:
                        return  # nothing to follow: its views reload instead
                    after = await runner.last_seq()
                page = await runner.wait_events(after, wait=FOLLOW_WAIT, limit=FOLLOW_PAGE)
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                cockpit.observed[index] = "reconnecting" if failures < 3 else "offline"
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]
                await asyncio.sleep(delay)
                continue
            failures = 0
            cockpit.observed[index] = "live"
            after = page.last_seq
            if page.events or page.reset:
                self.dispatch_events(index, page)

    def dispatch_events(self, index: int, page: EventPage) -> None:
        cockpit = self.cockpit
        if page.reset or any(e.kind == EventKind.CONFIG for e in page.events):
            cockpit.forget_pipelines(index)
        said = [e.data.problems for e in page.events if isinstance(e, ConfigEvent)]
        if said and said[-1] != cockpit.config_problems.get(index, []):
            cockpit.config_problems[index] = said[-1]
            for header in self.screen.query(AppHeader):
                header.sync()
        cockpit.action_ends.take(index, page)
        self.runner_events.publish((index, page))

    # Actions.

    def action_switch_view(self, view: str) -> None:
        from shipdeck.tui.screens.main import MainScreen

        while not isinstance(self.screen, MainScreen) and len(self.screen_stack) > 2:
            self.pop_screen()
        if isinstance(self.screen, MainScreen):
            self.screen.show_view(view)

    def action_help(self) -> None:
        from shipdeck.tui.dialogs.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def open_run(
        self,
        run_id: str,
        *,
        task: str | None = None,
        replace: bool = False,
        label: str | None = None,
    ) -> None:
        from shipdeck.tui.screens.run import RunScreen

        screen = RunScreen(run_id, task=task, label=label)
        if replace and isinstance(self.screen, RunScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def open_run_on(
        self, index: int, run_id: str, *, replace: bool = False, label: str | None = None
    ) -> None:
        """Open a run of any runner: the app switches to that runner first."""
        self.switch_runner(index)
        self.open_run(run_id, replace=replace, label=label)

    async def action_quit(self) -> None:
        """On the main screen, quit; from a view opened on top of it (q is not back there),
        ask first: a q meant for the view must not end the session. `Q` never asks."""
        if len(self.screen_stack) <= 2:
            self.exit(0)
            return
        from shipdeck.tui.dialogs.confirm import ConfirmScreen, Preview

        if isinstance(self.screen, ConfirmScreen):
            return
        ask = ConfirmScreen(Preview("Quit shipdeck?", "Q quits without asking.", [], action="Quit"))
        self.push_screen(ask, lambda quit: self.exit(0) if quit else None)

    def action_quit_now(self) -> None:
        self.exit(0)
