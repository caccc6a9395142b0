"""What the views, dialogs and screens need of the running cockpit: the runners and which one
is active, what each may do, its pipelines, the clock and the colours, and a way to open runs
and views. The app owns one (`current.cockpit`); Textual's own services (screens, notifications,
workers) stay on the app."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol, TypeVar

from shipdeck.errors import ShipdeckError
from shipdeck.model import PipelineSpec
from shipdeck.model.capabilities import Capabilities, Capability
from shipdeck.runners.protocol import Runner
from shipdeck.tui.action_ends import ActionEnds
from shipdeck.tui.config import TuiConfig
from shipdeck.tui.format import Clock
from shipdeck.tui.palette import Palette
from shipdeck.tui.view_data.snapshot import Snapshot, load_snapshot

T = TypeVar("T")

PIPELINES_TTL = 5.0
"""Seconds a runner's list of pipelines is reused before it is asked again."""


class Notify(Protocol):
    """The app's notification (failures of `Cockpit.call` are shown with it)."""

    def __call__(
        self,
        message: str,
        *,
        title: str = "",
        severity: Literal["information", "warning", "error"] = "information",
    ) -> None: ...


class Navigator(Protocol):
    """Where the cockpit goes: screens are the app's, so the app does it."""

    def open_run(self, run_id: str, *, task: str | None = None, label: str | None = None) -> None:
        """Open a run of the active runner (at `task`, titled `label` until it loads)."""

    def open_run_on(
        self, index: int, run_id: str, *, replace: bool = False, label: str | None = None
    ) -> None:
        """Open a run of any runner: switch to that runner first."""

    def switch_runner(self, index: int) -> None: ...

    def action_switch_view(self, view: str) -> None: ...


class Cockpit:
    """The runners and what is known about them, for everything the app shows."""

    def __init__(
        self,
        runners: list[Runner],
        *,
        clock: Clock,
        config: TuiConfig,
        read_only: bool,
        palette: Palette,
        notify: Notify,
        nav: Navigator,
        on_capabilities: Callable[[], object],
    ) -> None:
        if not runners:
            raise ValueError("the TUI needs at least one runner")
        self.runners = runners
        self.active = 0
        self.clock = clock
        self.config = config
        self.palette = palette
        """The active theme's colours (the app replaces it when the theme changes)."""
        self.nav = nav
        self.inputs = 0
        """Keys pressed and clicks so far: whether the operator has taken over the cursor."""
        self.config_problems: dict[int, list[str]] = {}
        """Per runner, why its workspace file does not load now (it keeps the last good one)."""
        self.action_ends = ActionEnds()
        """Deploy actions the dialogs started end here (they answer once started)."""
        self.observed: dict[int, str] = {}
        """Per runner, the app's follower's view of its link: live, reconnecting, offline."""
        self._read_only = read_only or config.read_only
        self._notify = notify
        self._on_capabilities = on_capabilities
        self._capabilities: dict[int, Capabilities] = {}
        self._pipelines: dict[int, tuple[float, list[PipelineSpec]]] = {}
        self._first_snapshot: tuple[int, asyncio.Future[Snapshot]] | None = None

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

    def runner_lacks(self, index: int, what: Capability) -> str:
        """Why runner `index` cannot do `what` at all, in one line; "" when it can, or while
        its capabilities are not known yet (the runner refuses then)."""
        if not 0 <= index < len(self.runners):
            return ""
        known = self._capabilities.get(index)
        if known is None or what in known.can:
            return ""
        return known.why_not(what, self.runners[index].name)

    def on_runner(self, index: int) -> str:
        """` on NAME` in a title when several runners are connected."""
        return f" on {self.runners[index].name}" if len(self.runners) > 1 else ""

    def known_capabilities(self, index: int) -> Capabilities | None:
        """Runner `index`'s capabilities once it has said them (None before: its keys show,
        and the runner itself refuses what it cannot do)."""
        return self._capabilities.get(index)

    def learn_capabilities(self, index: int, known: Capabilities) -> None:
        self._capabilities[index] = known
        self._on_capabilities()

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
            self.learn_capabilities(index, known)
        return known

    def connection_state(self, index: int) -> str:
        """live, reconnecting or offline: the runner's own `state.status` when it has one."""
        state = getattr(self.runners[index], "state", None)
        status = getattr(state, "status", None)
        if status is not None:
            value = str(getattr(status, "value", status))
            return "reconnecting" if value == "connecting" else value
        return self.observed.get(index, "live")

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

    def forget_pipelines(self, index: int) -> None:
        """The runner's workspace changed: ask for its pipelines again."""
        self._pipelines.pop(index, None)

    async def call(
        self, what: str, call: Callable[[], Awaitable[T]], *, title: str | None = None
    ) -> T | None:
        """Run a runner call; show failures as a notification instead of crashing, titled
        `title` (default: "<what> failed")."""
        title = title or f"{what} failed"
        try:
            return await call()
        except ShipdeckError as error:
            self._notify(str(error), title=title, severity="error")
        except Exception as error:  # a runner bug or a dropped link must not kill the UI
            self._notify(f"{type(error).__name__}: {error}", title=title, severity="error")
        return None

    # The first snapshot, asked for before the screens are built.

    def prefetch_first_snapshot(self) -> None:
        """Ask the active runner for the first snapshot now: a runner in another process
        prepares it while the app sets up the terminal and builds its screens."""
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

    def drop_first_snapshot(self) -> None:
        """The app closes before the first snapshot was taken."""
        if self._first_snapshot is not None:
            self._first_snapshot[1].cancel()
            self._first_snapshot = None
