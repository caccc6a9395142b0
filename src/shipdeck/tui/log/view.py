"""A virtual view of one task's log: only visible lines are read and rendered.

Live lines arrive in bursts from the event stream; they only mark the view dirty, and a timer
repaints at most REFRESH_HZ times a second, so a log printing 10,000 lines/s costs a few
frames per second of terminal output, not 10,000 repaints.
"""

from __future__ import annotations

import bisect
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

from shipdeck.errors import InvalidInput
from shipdeck.model import LogLine
from shipdeck.runners.protocol import Runner
from shipdeck.tui import keymap
from shipdeck.tui.log.buffer import LogBuffer
from shipdeck.tui.log.line import display_width
from shipdeck.tui.log.matches import LogMatches, LogQuery, find_match, first_error
from shipdeck.tui.log.render import (
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
    regex: bool = False
    """Searches are regular expressions."""
    filtering: bool = False
    """Only the matching lines are shown."""


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
    LogView > .log--number { color: $foreground 45%; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "log--stderr",
        "log--sys",
        "log--timestamp",
        "log--match",
        "log--current",
        "log--error",
        "log--loading",
        "log--number",
    }
    BINDINGS: ClassVar[list[BindingType]] = list(
        keymap.bindings(
            "log.follow",
            "log.search",
            "log.next",
            "log.prev",
            "log.filter",
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
    filtering: reactive[bool] = reactive(False)
    regex: reactive[bool] = reactive(False)

    class Changed(Message):
        """The view's state changed (for the status line)."""

        def __init__(self, view: LogView, state: LogState) -> None:
            super().__init__()
            self.view = view
            self.state = state

    def __init__(self, runner: Runner, run_id: str, task: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = LogBuffer(runner, run_id, task)
        self.runner = runner
        self.pattern = ""
        self.log_query: LogQuery | None = None
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
        self._wrap_rows: tuple[tuple[int, int, bool, bool, bool], list[Strip]] | None = None
        self._match_end = 0
        """Where the current match ends (cells): the view is at least that wide, so it can
        scroll there before the match's page is held."""
        self._rows_shown = 0
        """The number of rows the view was last sized for (grows with a filter's matches)."""

    @property
    def run_id(self) -> str:
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
        if self._matches is not None and self._matches.add_live(lines):
            self._count()  # a gap: some lines came in events this view never got
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
        if self._matches is not None:
            self._count()

    def mark_finished(self) -> None:
        if not self.buffer.finished:
            self.buffer.finished = True
            self._dirty = True

    def _flush(self) -> None:
        if self._dirty or self._row_count() != self._rows_shown:
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

    # Rows: every line, or with a filter only the matching ones.

    @property
    def _filtered(self) -> bool:
        return self.filtering and self._matches is not None

    def _row_count(self) -> int:
        if self._filtered and self._matches is not None:
            return len(self._matches.lines)
        return self.buffer.total

    def _line_at_row(self, row: int) -> int:
        if self._filtered and self._matches is not None:
            return self._matches.lines[row]
        return row

    def _row_of_line(self, n: int) -> int:
        """The row showing line n (with a filter: the first match at or after it)."""
        if self._filtered and self._matches is not None:
            return bisect.bisect_left(self._matches.lines, n)
        return n

    def _top_line(self) -> int:
        """The line at the top of the view."""
        row = int(self.scroll_y)
        rows = self._row_count()
        if row >= rows:
            return (
                self.buffer.total
                if not self._filtered
                else (self._line_at_row(rows - 1) + 1 if rows else 0)
            )
        return self._line_at_row(row)

    def _gutter(self) -> int:
        """Cells of the line-number column shown with a filter."""
        return len(str(self.buffer.total)) + 1 if self._filtered else 0

    def _at_tail(self) -> bool:
        if self.wrap:
            return int(self.scroll_y) == self._wrap_tail_anchor()
        height = self.scrollable_content_region.height
        return int(self.scroll_y) >= max(0, self._row_count() - height)

    def _sync_size(self) -> None:
        prefix = (TIMESTAMP_WIDTH if self.timestamps else 0) + self._gutter()
        width = 0 if self.wrap else max(self.buffer.max_width + prefix, self._match_end)
        self._rows_shown = self._row_count()
        self.virtual_size = Size(width, self._rows_shown)

    def _scroll_to_tail(self) -> None:
        if self.wrap:
            self.scroll_to(y=self._wrap_tail_anchor(), animate=False, immediate=True)
        else:
            height = self.scrollable_content_region.height
            top = max(0, self._row_count() - height)
            self.scroll_to(y=top, animate=False, immediate=True)

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
                    regex=self.regex,
                    filtering=self.filtering,
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

    def action_toggle_filter(self) -> None:
        """Show only the matching lines, or all again; with no search yet, ask for one."""
        if self._matches is None:
            self.filtering = True
            self.action_search()
            return
        self.filtering = not self.filtering

    def watch_filtering(self, old: bool, new: bool) -> None:
        if self._matches is None:
            self._changed()
            return
        # Stay on the same place in the log: the current match, else the top line.
        row = int(self.scroll_y)
        was = self._matches.lines
        if old and row < len(was):
            anchor = was[row]
        elif old:
            anchor = self.buffer.total
        else:
            anchor = row
        if self.match_line is not None:
            anchor = self.match_line
        self._wrap_rows = None
        self._sync_size()
        if not self.follow:
            self.go_to_line(anchor)
        self.refresh()
        self._changed()

    def action_toggle_regex(self) -> None:
        """Searches as regular expressions, or literal text again (the current one too)."""
        self.regex = not self.regex
        if self.log_query is not None:
            self.search(self.log_query.pattern)
        else:
            self._changed()

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
        row = self._row_of_line(n)
        top = row if self.wrap else max(0, row - self.size.height // 3)
        self.scroll_to(x=x, y=top, animate=False, immediate=True)
        self._wrap_rows = None
        self.refresh()

    def _match_x(self, text: str, regex: re.Pattern[str]) -> int | None:
        """The horizontal scroll that shows the line's first match (None when wrapping)."""
        if self.wrap:
            return None
        start, end = match_columns(text, regex, timestamps=self.timestamps)
        start, end = start + self._gutter(), end + self._gutter()
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
        """Search for `pattern` (as a regular expression when `regex` is on): the runner counts
        the matches, and the view goes to the first one from its top line."""
        self.match_line = None
        self._match_end = 0
        if not pattern:
            self.pattern, self.log_query, self._regex, self._matches = "", None, None, None
            self.note = ""
            self._dirty = True
            self.refresh()
            self._changed()
            return
        query = LogQuery(pattern, self.regex)
        try:
            matches = LogMatches(query)
        except InvalidInput as error:
            self.note = str(error)
            self._changed()
            return
        top = self._top_line()
        self.pattern, self.log_query, self._matches = pattern, query, matches
        self._regex = matches.regex
        self.note = ""
        self._dirty = True
        self.refresh()
        # The count after the first match: over one connection to the runner, the first match
        # would otherwise wait behind the count's pages.
        self._find(top, backwards=False, skip_current=False, then=self._count)

    def _count(self) -> None:
        matches = self._matches
        if matches is None:
            return

        async def count() -> None:
            try:
                await matches.count(self.runner, self.run_id, self.task_name)
            except Exception as error:
                if matches is self._matches:
                    self.note = f"cannot count matches: {error}"
                    self._changed()
                return
            if matches is self._matches:
                self._dirty = True
                self._changed()

        self.run_worker(count(), group="log-count", exclusive=True)

    def action_next_match(self) -> None:
        self._step(backwards=False)

    def action_previous_match(self) -> None:
        self._step(backwards=True)

    def _step(self, *, backwards: bool) -> None:
        """n/N: on from the current match while it is on screen; else from where the view is
        now (scrolled away with g, G or the keys: the next match below the top line, or the
        previous one above it), as in less."""
        if self.log_query is None:
            self.notify("No search yet: press / to search", severity="warning")
            return
        top = int(self.scroll_y)
        current = self.match_line
        if current is not None and top <= self._row_of_line(current) < top + max(
            1, self.size.height
        ):
            self._find(current, backwards=backwards, skip_current=True)
        else:
            self._find(self._top_line(), backwards=backwards, skip_current=backwards)

    def _find(
        self,
        start: int,
        *,
        backwards: bool,
        skip_current: bool,
        then: Callable[[], None] | None = None,
    ) -> None:
        """The next match from `start` on (or back); past the end it wraps around once. `then`
        is called once the match is on screen (or known not to be)."""
        query, matches, regex = self.log_query, self._matches, self._regex
        if query is None or matches is None or regex is None:
            return
        if skip_current:
            start += -1 if backwards else 1

        async def look(line: int) -> int | None:
            if line < 0:
                return None
            known = matches.before(line) if backwards else matches.after(line)
            if known is not None or matches.done:
                return known
            return await find_match(
                self.runner,
                self.run_id,
                self.task_name,
                query,
                line,
                backwards=backwards,
                total=self.buffer.total,
            )

        async def find() -> None:
            try:
                await go()
            finally:
                if then is not None:
                    then()

        async def go() -> None:
            self.note = "searching…"
            self._changed()
            total = self.buffer.total
            found = await look(start) if 0 <= start < max(total, 1) else None
            wrapped = found is None
            if wrapped:
                found = await look(total - 1 if backwards else 0)
            if found is None:
                self.note = f"no match for {self.pattern!r}"
            else:
                self.note = ("wrapped to the end" if backwards else "wrapped to the top") * wrapped
                self.match_line = found
                line = await self._fetch_line(found)
                x = self._match_x(line.text, regex) if line is not None else None
                self.go_to_line(found, x)
            self._changed()

        self.run_worker(find(), group="log-search", exclusive=True)

    async def _fetch_line(self, n: int) -> LogLine | None:
        line = self.buffer.line(n)
        if line is None:
            page = self.buffer.missing_page(n)
            if page is not None:
                await self.buffer.fetch_page(page)
            line = self.buffer.line(n)
        return line

    def action_first_error(self) -> None:
        async def find() -> None:
            self.note = "looking for the first error…"
            self._changed()
            line, is_error = await first_error(self.buffer)
            if line is None:
                self.note = "no error in this log"
            else:
                self.note = "" if is_error else "no error line; showing the first stderr line"
                if self._filtered and self._matches and self._matches.position(line.n) is None:
                    self.filtering = False  # the error is not among the matches shown
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
        styles = self._styles()
        segments = line_segments(
            line,
            styles,
            timestamps=self.timestamps,
            regex=self._regex,
            current=n == self.match_line,
        )
        gutter = self._gutter()
        if gutter:
            number = Segment(f"{n + 1:>{gutter - 1}} ", styles.base + self._number_style())
            segments.insert(0, number)
        return Strip(segments)

    def _number_style(self) -> Style:
        return self.get_component_rich_style("log--number", partial=True)

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
        row = scroll_y + y
        if row >= self._row_count():
            return Strip.blank(width, self.rich_style)
        strip = self._line_strip(self._line_at_row(row))
        if strip is None:
            return self._placeholder(width)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _wrapped_rows(self, width: int) -> list[Strip]:
        key = (int(self.scroll_y), width, self.timestamps, self.pattern != "", self._filtered)
        if self._wrap_rows is not None and self._wrap_rows[0] == key:
            return self._wrap_rows[1]
        rows: list[Strip] = []
        row = int(self.scroll_y)
        count = self._row_count()
        while len(rows) < self.size.height and row < count:
            strip = self._line_strip(self._line_at_row(row))
            if strip is None:
                rows.append(self._placeholder(width))
            else:
                rows.extend(self._split(strip, width))
            row += 1
        self._wrap_rows = (key, rows)
        return rows

    def _split(self, strip: Strip, width: int) -> list[Strip]:
        length = strip.cell_length
        if length <= width:
            return [strip.extend_cell_length(width, self.rich_style)]
        cuts = [*range(width, length, width), length]
        return [s.extend_cell_length(width, self.rich_style) for s in strip.divide(cuts)]

    def _wrap_tail_anchor(self) -> int:
        """The first row to show so the last rows fill the view when wrapped."""
        width = max(1, self.size.width)
        extra = (TIMESTAMP_WIDTH if self.timestamps else 0) + self._gutter()
        height = 0
        row = self._row_count() - 1
        while row > 0:
            line = self.buffer.line(self._line_at_row(row))
            rows = 1 if line is None else max(1, -(-(display_width(line.text) + extra) // width))
            if height + rows > self.size.height:
                return row + 1
            height += rows
            row -= 1
        return 0
