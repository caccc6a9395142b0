"""A top-level view over every runner: one load per runner, painted as each one answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from rich.text import Text
from textual.binding import BindingType
from textual.containers import Vertical
from textual.widgets import Static

from shipdeck.model import EventKind, EventPage
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.current import cockpit_of, follow_runner_events, tick_while_shown
from shipdeck.tui.fleet import Part, load_part
from shipdeck.tui.format import clip
from shipdeck.tui.views.filter import FilterableView, FilterInput
from shipdeck.tui.widgets.header import STATE_COLOUR, STATE_GLYPH

if TYPE_CHECKING:
    from shipdeck.tui.cockpit import Cockpit

__all__ = ["FilterInput", "FleetView", "status_line"]

T = TypeVar("T")

RELOAD_INTERVAL = 0.5
ERROR_WIDTH = 40


class FleetView(FilterableView, Vertical, Generic[T]):
    """Subclasses define `load(index, runner)` and `paint()`; `parts` holds each runner's
    latest answer (or the reason it has none)."""

    RELOAD_ON: frozenset[EventKind] = frozenset(
        {
            EventKind.RUN,
            EventKind.CONFIG,
            EventKind.DEPLOY_STARTED,
            EventKind.DEPLOY_FINISHED,
            EventKind.HEALTH_CHANGED,
            EventKind.ALIAS_MOVED,
            EventKind.VERSION_REGISTERED,
        }
    )
    """Kinds after which a runner's part is loaded again (every change a view shows sends
    one: nothing is reloaded on a timer)."""
    BINDINGS: ClassVar[list[BindingType]] = [keymap.ALL_BINDINGS["back"]]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.parts: dict[int, Part[T]] = {}
        self._stale: set[int] = set()
        self._loading: set[int] = set()
        self.filter_words: list[str] = []
        self._started = False

    @property
    def cockpit(self) -> Cockpit:
        return cockpit_of(self)

    async def load(self, index: int, runner: Runner) -> T:
        raise NotImplementedError

    async def load_more(self, index: int, runner: Runner, part: Part[T]) -> None:
        """After a runner's part is painted: load what its first frame did without (replace
        `parts[index]` and paint again when it is still `part`). Nothing by default."""

    def paint(self) -> None:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.set_interval(RELOAD_INTERVAL, self._reload_stale)
        tick_while_shown(self, self._repaint_ages)
        follow_runner_events(self, self.on_runner_events)

    def on_show(self) -> None:
        """Load when first shown: a tab nobody opened costs its runners nothing. Shown again,
        its ages are brought up to date at once."""
        if not self._started:
            self._started = True
            self.reload()
        else:
            self._repaint_ages()

    def _repaint_ages(self) -> None:
        if self.parts:
            self.paint()

    def reload(self) -> None:
        self._stale.update(range(len(self.cockpit.runners)))
        self._reload_stale()

    def _reload_stale(self) -> None:
        if not self._started:
            return
        for index in sorted(self._stale - self._loading):
            self._stale.discard(index)
            self._loading.add(index)
            self.run_worker(self._load_one(index), group=f"{self.id}-{index}")

    async def _load_one(self, index: int) -> None:
        runner = self.cockpit.runners[index]
        try:
            part = await load_part(index, runner, lambda r: self.load(index, r))
        finally:
            self._loading.discard(index)
        self.parts[index] = part
        self.paint()
        if part.data is not None:
            await self.load_more(index, runner, part)

    def on_runner_events(self, runner_index: int, page: EventPage) -> None:
        if page.reset or any(e.kind in self.RELOAD_ON for e in page.events):
            self._stale.add(runner_index)

    @property
    def many(self) -> bool:
        return len(self.cockpit.runners) > 1

    def answered(self) -> list[tuple[int, T]]:
        """Runners that answered, in runner order."""
        return [
            (index, part.data)
            for index, part in sorted(self.parts.items())
            if part.data is not None
        ]

    def read_only(self, index: int) -> bool:
        return self.cockpit.runner_read_only(index)

    def with_runners(self, summary: Text) -> Text:
        """The view's summary, then (with several runners, or one failing) each runner's state;
        the summary comes first so a long error never pushes it off the line."""
        if not self.many and not any(part.error for part in self.parts.values()):
            return summary
        app = self.cockpit
        palette = app.palette
        summary.append("  ")
        for index, runner in enumerate(app.runners):
            part = self.parts.get(index)
            state = "offline" if part is not None and part.error else app.connection_state(index)
            style = palette.colour(STATE_COLOUR.get(state, "foreground"))
            summary.append(f" {runner.name} ")
            summary.append(STATE_GLYPH.get(state, "?"), style=style)
            if part is None:
                summary.append(" loading…", style=palette.muted)
            elif part.error:
                summary.append(f" {clip(part.error, ERROR_WIDTH)}", style=style)
        return summary


def status_line(id: str) -> Static:
    return Static("", id=id, classes="view-status")
