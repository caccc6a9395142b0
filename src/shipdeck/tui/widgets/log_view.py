"""A virtual view of one task's log: only visible lines are read and rendered.

Live lines arrive in bursts from the event stream; they only mark the view dirty, and a timer
repaints at most REFRESH_HZ times a second, so a log printing 10,000 lines/s costs a few
frames per second of terminal output, not 10,000 repaints.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shipdeck.logtext import compile_search
from shipdeck.model import LogLine
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.log_buffer import LogBuffer
from shipdeck.tui.log_line import display_width
from shipdeck.tui.log_matches import LogMatches, find_match, first_error
from shipdeck.tui.log_render import (
    TIMESTAMP_WIDTH,
    LineStyles,
    line_segments,
    match_columns,
    reveal_x,
)

REFRESH_HZ = 10


@dataclass(frozen=True)
class LogState:
    """What the status line shows about the view."""

    total: int
    finished: bool
    follow: bool
    wrap: bool
    timestamps: bool
    pattern: str
    match_line: int | None
    note: str
    match_index: int | None = None
    """1-based position of the current match among all of them, once counted."""
    match_count: int | None = None
    """How many lines match the search; None while they are being counted."""


class LogView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LogView { background: $surface; scrollbar-size: 1 1; }
    LogView > .log--stderr { color: $warning; }
    LogView > .log--sys { color: $foreground 55%; text-style: italic; }
    LogView > .log--timestamp { color: $foreground 45%; }
    LogView > .log--match { background: $warning 40%; }
    LogView > .log--current { background: $accent 60%; text-style: bold; }
    LogView > .log--error { color: $error; }
    LogView > .log--loading { color: $foreground 30%; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log--stderr",
        "log--sys",
        "log--timestamp",
        "log--match",
        "log--current",
        "log--error",
        "log--loading",
    }
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings(
            "log.follow",
            "log.search",
            "log.next",
            "log.prev",
            "log.wrap",
            "log.timestamps",
            "log.first-error",
            "log.top",
            "log.bottom",
            "log.down",
            "log.up",
            "log.page-down",
            "log.page-up",
        )
    )

    follow: reactive[bool] = reactive(False)
    wrap: reactive[bool] = reactive(False)
    timestamps: reactive[bool] = reactive(False)

    class Changed(Message):
        """The view's state changed (for the status line)."""

        def __init__(self, view: LogView, state: LogState) -> None:
            super().__init__()
            self.view = view
            self.state = state

    def __init__(self, runner: Runner, run_id: int, task: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = LogBuffer(runner, run_id, task)
        self.pattern = ""
        self._regex: re.Pattern[str] | None = None
        self.match_line: int | None = None
        self._matches: LogMatches | None = None
        self.open_search: Callable[[], None] | None = None
        """Shows and focuses the search box (set by the pane that holds one)."""
        self.note = "loading…"
        self._dirty = False
        self._opened = False
        self._pending_tail = False
        """Open at the tail: retried each tick until the layout knows the view's size."""
        self._pending_pages: set[int] = set()
        self._wrap_rows: tuple[tuple[int, int, bool, bool], list[Strip]] | None = None
        self._match_end = 0
        """Where the current match ends (cells): the view is at least that wide, so it can
        scroll there before the match's page is held."""

    @property
    def run_id(self) -> int:
        return self.buffer.run_id

    @property
    def task_name(self) -> str:
        return self.buffer.task

    def on_mount(self) -> None:
        self.set_interval(1 / REFRESH_HZ, self._flush)
        self.run_worker(self._open(), group="log-open", exclusive=True)

    async def _open(self) -> None:
        try:
            await self.buffer.open()
        except Exception as error:
            self.note = f"cannot read log: {error}"
        else:
            self.note = ""
        self._opened = True
        self.follow = not self.buffer.finished
        self._pending_tail = True
        self._dirty = True
        self._flush()

    # Live input.

    def add_lines(self, lines: list[LogLine], finished: bool = False) -> None:
        """Lines from the event stream (any burst size); painted on the next tick."""
        for line in lines:
            self.buffer.add_live(line)
        if self._matches is not None:
            self._matches.add_live(lines)
        if finished:
            self.buffer.finished = True
        self._dirty = True

    def resync(self) -> None:
        """Re-read the tail after the event stream dropped events (a `reset` page)."""

        async def reread() -> None:
            try:
                await self.buffer.open()
            except Exception as error:
                self.note = f"cannot read log: {error}"
            self._dirty = True

        self.run_worker(reread(), group="log-open", exclusive=True)

    def mark_finished(self) -> None:
        if not self.buffer.finished:
            self.buffer.finished = True
            self._dirty = True

    def _flush(self) -> None:
        if self._dirty:
            self._dirty = False
            self._sync_size()
            self._wrap_rows = None
            self.refresh()
            self._changed()
        if self.follow or self._pending_tail:
            # Retried every tick: a scroll only lands once layout knows the new size.
            if not self._at_tail():
                self._scroll_to_tail()
                if self._pending_tail:
                    self.call_after_refresh(self._flush)
            elif self.size.height:
                self._pending_tail = False

    def _at_tail(self) -> bool:
        if self.wrap:
            return int(self.scroll_y) == self._wrap_tail_anchor()
        height = self.scrollable_content_region.height
        return int(self.scroll_y) >= max(0, self.buffer.total - height)

    def _sync_size(self) -> None:
        prefix = TIMESTAMP_WIDTH if self.timestamps else 0
        width = 0 if self.wrap else max(self.buffer.max_width + prefix, self._match_end)
        self.virtual_size = Size(width, self.buffer.total)

    def _scroll_to_tail(self) -> None:
        if self.wrap:
            self.scroll_to(y=self._wrap_tail_anchor(), animate=False, immediate=True)
        else:
            height = self.scrollable_content_region.height
            self.scroll_to(y=max(0, self.buffer.total - height), animate=False, immediate=True)

    def _changed(self) -> None:
        matches = self._matches
        counted = matches is not None and matches.done
        self.post_message(
            self.Changed(
                self,
                LogState(
                    total=self.buffer.total,
                    finished=self.buffer.finished,
                    follow=self.follow,
                    wrap=self.wrap,
                    timestamps=self.timestamps,
                    pattern=self.pattern,
                    match_line=self.match_line,
                    note=self.note,
                    match_index=matches.position(self.match_line) if matches else None,
                    match_count=len(matches.lines) if matches and counted else None,
                ),
            )
        )

    # Toggles.

    def watch_follow(self, follow: bool) -> None:
        if follow and self._opened:
            self._scroll_to_tail()
        self._changed()

    def watch_wrap(self) -> None:
        self._wrap_rows = None
        self._sync_size()
        if self.follow:
            self._scroll_to_tail()
        self.refresh()
        self._changed()

    def watch_timestamps(self) -> None:
        self.watch_wrap()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps

    # Scrolling. Any manual move stops following, as in `less +F`.

    def action_scroll_lines(self, delta: int) -> None:
        self.follow = False
        self._pending_tail = False
        self.scroll_to(y=self.scroll_y + delta, animate=False)

    def action_scroll_pages(self, delta: int) -> None:
        self.follow = False
        self._pending_tail = False
        self.scroll_to(y=self.scroll_y + delta * max(1, self.size.height - 1), animate=False)

    def action_scroll_top(self) -> None:
        self.follow = False
        self._pending_tail = False
        self.scroll_home(animate=False)

    def action_scroll_bottom(self) -> None:
        self.follow = True

    def on_mouse_scroll_up(self) -> None:
        self.follow = False

    def go_to_line(self, n: int, x: int | None = None) -> None:
        """Show line n (a third of the way down); `x` scrolls sideways too."""
        self.follow = False
        self._pending_tail = False
        top = n if self.wrap else max(0, n - self.size.height // 3)
        self.scroll_to(x=x, y=top, animate=False, immediate=True)
        self._wrap_rows = None
        self.refresh()

    def _match_x(self, text: str, regex: re.Pattern[str]) -> int | None:
        """The horizontal scroll that shows the line's first match (None when wrapping)."""
        if self.wrap:
            return None
        start, end = match_columns(text, regex, timestamps=self.timestamps)
        self._match_end = end
        self._sync_size()
        return reveal_x(start, end, self.scrollable_content_region.width)

    # Search and first error.

    def action_search(self) -> None:
        # A call, not a message: with `/` a priority binding, the box must have the focus
        # before the app hands on the keys typed after it.
        if self.open_search is not None:
            self.open_search()

    def search(self, pattern: str) -> None:
        self.pattern = pattern
        self._regex = compile_search(pattern) if pattern else None
        self.match_line = None
        self._match_end = 0
        self._matches = LogMatches(self._regex) if self._regex is not None else None
        self.refresh()
        if self._regex is not None:
            self.run_worker(self._count_matches(), group="log-count", exclusive=True)
            self._find(int(self.scroll_y), backwards=False, skip_current=False)
        else:
            self._changed()

    async def _count_matches(self) -> None:
        matches = self._matches
        if matches is None:
            return
        try:
            await matches.count(self.buffer)
        except Exception:
            return  # the count is a nicety: the search itself reports read errors
        if matches is self._matches:
            self._changed()

    def action_next_match(self) -> None:
        self._step(backwards=False)

    def action_previous_match(self) -> None:
        self._step(backwards=True)

    def _step(self, *, backwards: bool) -> None:
        """n/N: on from the current match while it is on screen; else from where the view is
        now (scrolled away with g, G or the keys: the next match below the top line, or the
        previous one above it), as in less."""
        if self._regex is None:
            self.notify("No search yet: press / to search", severity="warning")
            return
        top = int(self.scroll_y)
        current = self.match_line
        if current is not None and top <= current < top + max(1, self.size.height):
            self._find(current, backwards=backwards, skip_current=True)
        else:
            self._find(top, backwards=backwards, skip_current=backwards)

    def _find(self, start: int, *, backwards: bool, skip_current: bool) -> None:
        """The next match from `start` on (or back); past the end it wraps around once."""
        regex = self._regex
        if regex is None:
            return
        if skip_current:
            start += -1 if backwards else 1

        async def find() -> None:
            self.note = "searching…"
            self._changed()
            buffer = self.buffer
            line = None
            if 0 <= start < max(buffer.total, 1):
                line = await find_match(buffer, regex, start, backwards=backwards)
            wrapped = line is None
            if wrapped:
                again = buffer.total - 1 if backwards else 0
                line = await find_match(buffer, regex, again, backwards=backwards)
            if line is None:
                self.note = f"no match for {self.pattern!r}"
            else:
                self.note = ("wrapped to the end" if backwards else "wrapped to the top") * wrapped
                self.match_line = line.n
                self.go_to_line(line.n, self._match_x(line.text, regex))
            self._changed()

        self.run_worker(find(), group="log-search", exclusive=True)

    def action_first_error(self) -> None:
        async def find() -> None:
            self.note = "looking for the first error…"
            self._changed()
            line, is_error = await first_error(self.buffer)
            if line is None:
                self.note = "no error in this log"
            else:
                self.note = "" if is_error else "no error line; showing the first stderr line"
                self.go_to_line(line.n)
            self._changed()

        self.run_worker(find(), group="log-search", exclusive=True)

    # Rendering.

    def _request(self, n: int) -> None:
        page = self.buffer.missing_page(n)
        if page is None or page in self._pending_pages:
            return
        self._pending_pages.add(page)

        async def fetch() -> None:
            try:
                await self.buffer.fetch_page(page)
            except Exception as error:
                self.note = f"cannot read log: {error}"
                self._changed()
            finally:
                self._pending_pages.discard(page)
            self._dirty = True

        self.run_worker(fetch(), group=f"log-page-{page}")

    def _line_strip(self, n: int) -> Strip | None:
        line = self.buffer.line(n)
        if line is None:
            self._request(n)
            return None
        segments = line_segments(
            line,
            self._styles(),
            timestamps=self.timestamps,
            regex=self._regex,
            current=n == self.match_line,
        )
        return Strip(segments)

    def _styles(self) -> LineStyles:
        def part(name: str) -> Style:
            return self.get_component_rich_style(name, partial=True)

        return LineStyles(
            base=self.rich_style,
            error=part("log--error"),
            stderr=part("log--stderr"),
            sys=part("log--sys"),
            timestamp=part("log--timestamp"),
            match=part("log--match"),
            current=part("log--current"),
        )

    def _placeholder(self, width: int) -> Strip:
        style = self.rich_style + self.get_component_rich_style("log--loading", partial=True)
        return Strip([Segment("…".ljust(width), style)], width)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self.wrap:
            rows = self._wrapped_rows(width)
            return rows[y] if y < len(rows) else Strip.blank(width, self.rich_style)
        scroll_x, scroll_y = self.scroll_offset
        n = scroll_y + y
        if n >= self.buffer.total:
            return Strip.blank(width, self.rich_style)
        strip = self._line_strip(n)
        if strip is None:
            return self._placeholder(width)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _wrapped_rows(self, width: int) -> list[Strip]:
        key = (int(self.scroll_y), width, self.timestamps, self.pattern != "")
        if self._wrap_rows is not None and self._wrap_rows[0] == key:
            return self._wrap_rows[1]
        rows: list[Strip] = []
        n = int(self.scroll_y)
        while len(rows) < self.size.height and n < self.buffer.total:
            strip = self._line_strip(n)
            if strip is None:
                rows.append(self._placeholder(width))
            else:
                rows.extend(self._split(strip, width))
            n += 1
        self._wrap_rows = (key, rows)
        return rows

    def _split(self, strip: Strip, width: int) -> list[Strip]:
        length = strip.cell_length
        if length <= width:
            return [strip.extend_cell_length(width, self.rich_style)]
        cuts = [*range(width, length, width), length]
        return [s.extend_cell_length(width, self.rich_style) for s in strip.divide(cuts)]

    def _wrap_tail_anchor(self) -> int:
        """The first line to show so the last lines fill the view when wrapped."""
        width = max(1, self.size.width)
        rows = 0
        n = self.buffer.total - 1
        while n > 0:
            line = self.buffer.line(n)
            extra = TIMESTAMP_WIDTH if self.timestamps else 0
            height = 1 if line is None else max(1, -(-(display_width(line.text) + extra) // width))
            if rows + height > self.size.height:
                return n + 1
            rows += height
            n -= 1
        return 0
