"""The shipdeck Textual app: runners in, views out. Built by `create_app` with its runners."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar, TypedDict, TypeVar

from textual import events
from textual.app import App
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.signal import Signal

from shipdeck import startup
from shipdeck.errors import ShipdeckError
from shipdeck.model import ConfigEvent, EventKind, EventPage, PipelineSpec
from shipdeck.model.capabilities import Capabilities, Capability, EventDelivery
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.action_ends import ActionEnds
from shipdeck.tui.commands import ShipdeckCommands
from shipdeck.tui.config import TuiConfig, load_config
from shipdeck.tui.format import Clock, system_clock
from shipdeck.tui.palette import Palette
from shipdeck.tui.themes import DEFAULT_THEME, bundled_themes_dir, load_themes
from shipdeck.tui.view_data.snapshot import Snapshot, load_snapshot
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
        if not runners:
            raise ValueError("the TUI needs at least one runner")
        self.runners = runners
        self.active = 0
        self.clock = clock
        self.config = load_config() if config is None else config
        self._read_only = read_only or self.config.read_only
        self._theme_choice = theme
        self._extra_themes_dir = extra_themes_dir
        self._observed: dict[int, str] = {}
        self.config_problems: dict[int, list[str]] = {}
        """Per runner, why its workspace file does not load now (it keeps the last good one)."""
        self._capabilities: dict[int, Capabilities] = {}
        self._pipelines: dict[int, tuple[float, list[PipelineSpec]]] = {}
        self._first_snapshot: tuple[int, asyncio.Future[Snapshot]] | None = None
        self.inputs = 0
        """Keys pressed and clicks so far: whether the operator has taken over the cursor."""
        self.palette = Palette(self.get_css_variables(), no_color=self.no_color)
        self.ticks: Signal[datetime] = Signal(self, "ticks")
        """Every TICK seconds, the clock's reading: views that show ages repaint them."""
        self.action_ends = ActionEnds()
        """Deploy actions the dialogs started end here (they answer once started)."""
        self.runner_events: Signal[tuple[int, EventPage]] = Signal(self, "runner-events")
        """Each page of events from any runner, with the runner's index: the one way events
        reach screens and views (subscribe with `current.follow_runner_events`)."""

    # Runners.

    @property
    def runner(self) -> Runner:
        return self.runners[self.active]

    @property
    def read_only(self) -> bool:
        """Read-only for the active runner: from the flag, the config, or the runner itself."""
        return self.runner_read_only(self.active)

    def runner_read_only(self, index: int) -> bool:
        """Read-only for one runner: the app's flag, the user config, or the runner's declared
        capabilities (once known)."""
        if self._read_only:
            return True
        if not 0 <= index < len(self.runners):
            return True
        if self.runners[index].name in self.config.read_only_runners:
            return True
        known = self._capabilities.get(index)
        return known is not None and known.read_only

    def known_capabilities(self, index: int) -> Capabilities | None:
        """Runner `index`'s capabilities once it has said them (None before: its keys show,
        and the runner itself refuses what it cannot do)."""
        return self._capabilities.get(index)

    async def capabilities_of(self, index: int) -> Capabilities | None:
        """Runner `index`'s capabilities, asked once it answers; None while it does not."""
        known = self._capabilities.get(index)
        if known is None:
            try:
                known = await self.runners[index].capabilities()
            except asyncio.CancelledError:
                raise
            except Exception:
                return None
            self._capabilities[index] = known
            self.refresh_bindings()
        return known

    def connection_state(self, index: int) -> str:
        """live, reconnecting or offline: the runner's own `state.status` when it has one."""
        state = getattr(self.runners[index], "state", None)
        status = getattr(state, "status", None)
        if status is not None:
            value = str(getattr(status, "value", status))
            return "reconnecting" if value == "connecting" else value
        return self._observed.get(index, "live")

    async def pipelines(self, index: int | None = None) -> list[PipelineSpec]:
        """A runner's pipelines, asked again after PIPELINES_TTL: the workspace daemon follows
        shipdeck.toml, so a pipeline added to the file shows up without a restart."""
        index = self.active if index is None else index
        cached = self._pipelines.get(index)
        if cached is None or time.monotonic() - cached[0] > PIPELINES_TTL:
            runner = self.runners[index]
            listed = Capability.PIPELINES in (await runner.capabilities()).can
            cached = (time.monotonic(), await runner.pipelines() if listed else [])
            self._pipelines[index] = cached
        return cached[1]

    async def pipeline(self, name: str) -> PipelineSpec | None:
        return next((p for p in await self.pipelines() if p.name == name), None)

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

    async def call(
        self, what: str, call: Callable[[], Awaitable[T]], *, title: str | None = None
    ) -> T | None:
        """Run a runner call; show failures as a notification instead of crashing, titled
        `title` (default: "<what> failed")."""
        title = title or f"{what} failed"
        try:
            return await call()
        except ShipdeckError as error:
            self.notify(str(error), title=title, severity="error")
        except Exception as error:  # a runner bug or a dropped link must not kill the UI
            self.notify(f"{type(error).__name__}: {error}", title=title, severity="error")
        return None

    def switch_runner(self, index: int) -> None:
        if index == self.active or not 0 <= index < len(self.runners):
            return
        self.active = index
        while len(self.screen_stack) > 2:
            self.pop_screen()
        from shipdeck.tui.screens.main import MainScreen

        if isinstance(self.screen, MainScreen):
            self.screen.reload()
        self.refresh_bindings()
        self.notify(f"Runner: {self.runner.name}")

    # Lifecycle.

    def on_load(self) -> None:
        """Ask the active runner for the first snapshot before the screens are even built:
        a runner in another process (the workspace daemon, a remote) prepares it while this
        one sets up the terminal, parses styles and composes the views."""
        index = self.active

        async def first() -> Snapshot:
            return await load_snapshot(self.runners[index], await self.pipelines(index))

        self._first_snapshot = (index, asyncio.ensure_future(first()))

    def take_first_snapshot(self, index: int) -> asyncio.Future[Snapshot] | None:
        """The prefetched first snapshot of runner `index`, once; later loads ask again."""
        first, self._first_snapshot = self._first_snapshot, None
        if first is None:
            return None
        if first[0] != index:
            first[1].cancel()
            return None
        return first[1]

    def on_unmount(self) -> None:
        if self._first_snapshot is not None:  # never taken: the app closed first
            self._first_snapshot[1].cancel()
            self._first_snapshot = None

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
        self.set_interval(TICK, lambda: self.ticks.publish(self.clock()))
        self.push_screen(MainScreen())
        for index in range(len(self.runners)):
            self.run_worker(self._follow(index), group=f"follow-{index}", name=f"follow-{index}")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown) and not event.is_forwarded:
            self.inputs += 1
        await super().on_event(event)

    def _on_theme_changed(self, _theme: object) -> None:
        self.palette = Palette(self.get_css_variables(), no_color=self.no_color)

    async def _follow(self, index: int) -> None:
        """Follow one runner's event stream for the app's lifetime and fan pages out."""
        runner = self.runners[index]
        after: int | None = None
        failures = 0
        while True:
            try:
                if after is None:
                    declared = await runner.capabilities()
                    self._capabilities[index] = declared
                    self.refresh_bindings()
                    if declared.events == EventDelivery.NONE:
                        return  # nothing to follow: its views reload instead
                    after = await runner.last_seq()
                page = await runner.wait_events(after, wait=FOLLOW_WAIT, limit=FOLLOW_PAGE)
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                self._observed[index] = "reconnecting" if failures < 3 else "offline"
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]
                await asyncio.sleep(delay)
                continue
            failures = 0
            self._observed[index] = "live"
            after = page.last_seq
            if page.events or page.reset:
                self.dispatch_events(index, page)

    def dispatch_events(self, index: int, page: EventPage) -> None:
        if page.reset or any(e.kind == EventKind.CONFIG for e in page.events):
            self._pipelines.pop(index, None)  # the file changed: ask for its pipelines again
        said = [e.data.problems for e in page.events if isinstance(e, ConfigEvent)]
        if said and said[-1] != self.config_problems.get(index, []):
            self.config_problems[index] = said[-1]
            for header in self.screen.query(AppHeader):
                header.sync()
        self.action_ends.take(index, page)
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
        from shipdeck.tui.dialogs.confirm import ConfirmScreen

        if isinstance(self.screen, ConfirmScreen):
            return
        ask = ConfirmScreen("Quit shipdeck?", "Q quits without asking.", [], action="Quit")
        self.push_screen(ask, lambda quit: self.exit(0) if quit else None)

    def action_quit_now(self) -> None:
        self.exit(0)
