"""Where a log search matches, found by the runner where the log is (`Runner.search_log`):
every matching line number, so the status line can say 2/12 and the filter can show only them,
and the next or previous match from a line.

The count is one pass over the log in pages of line numbers (nothing but the numbers is kept:
4 bytes a match); live lines after what the runner has searched are matched here, against the
same visible text, as they arrive.
"""

from __future__ import annotations

import bisect
import re
from array import array
from dataclasses import dataclass

from shipdeck.logtext import compile_search, visible
from shipdeck.model import LogLine, LogStream
from shipdeck.runners.protocol import Runner
from shipdeck.tui.log.buffer import LogBuffer
from shipdeck.tui.log.line import ERROR_PATTERN, is_error_line

COUNT_PAGE = 100_000
"""Line numbers asked for per page while counting."""
BACK_WINDOW = 65_536
"""Lines searched per request when looking backwards (the window doubles each time)."""
PENDING_LIVE = 10_000


@dataclass(frozen=True)
class LogQuery:
    """What the operator searches for."""

    pattern: str
    regex: bool = False

    def compile(self) -> re.Pattern[str]:
        """The search over visible text; InvalidInput when the pattern is bad."""
        return compile_search(self.pattern, regex=self.regex)


class LogMatches:
    def __init__(self, query: LogQuery) -> None:
        self.query = query
        self.regex = query.compile()
        self.lines = array("I")
        """Matching line numbers, ascending."""
        self.done = False
        """Every line up to the log's end (as the runner last saw it) is counted."""
        self.counted_to = 0
        """Lines below this number are counted."""
        self.total = 0
        """The log's length the runner last reported (for progress)."""
        self._pending: dict[int, LogLine] = {}
        """Live lines the runner had not searched when they arrived, while counting."""

    async def count(self, runner: Runner, run_id: str, task: str) -> None:
        """Search the log with the runner, page by page, up to its end and past every live line
        seen meanwhile (run in a worker; cancelling it leaves `done` False)."""
        self.done = False
        while True:
            start = self.counted_to
            page = await runner.search_log(
                run_id,
                task,
                self.query.pattern,
                regex=self.query.regex,
                start=start,
                limit=COUNT_PAGE,
            )
            self._extend(page.runs)
            self.counted_to = max(self.counted_to, page.next)
            self.total = max(self.total, page.total)
            ahead = any(n >= self.counted_to for n in self._pending)
            if page.done and (not ahead or page.next == start):
                break  # at the end; live lines past it were written after this page was read
        self.done = True
        pending, self._pending = self._pending, {}
        self.add_live([pending[n] for n in sorted(pending) if n >= self.counted_to])

    def _extend(self, spans: list[tuple[int, int]]) -> None:
        last = self.lines[-1] if self.lines else -1
        for first, stop in spans:
            self.lines.extend(range(max(first, last + 1), stop))

    def add_live(self, lines: list[LogLine]) -> bool:
        """Lines from the event stream. Returns True when the runner must search again: a
        line came beyond the next one expected (events were dropped)."""
        again = False
        for line in lines:
            if not self.done:
                if line.n >= self.counted_to and len(self._pending) < PENDING_LIVE:
                    self._pending[line.n] = line  # the runner's count goes on past it
            elif line.n == self.counted_to:
                if self.regex.search(visible(line.text)):
                    self.lines.append(line.n)
                self.counted_to = line.n + 1
                self.total = max(self.total, self.counted_to)
            elif line.n > self.counted_to:
                again = True
        return again

    def position(self, line: int | None) -> int | None:
        """1-based index of the match on `line` among all matches (None if it is not one)."""
        if line is None:
            return None
        index = bisect.bisect_left(self.lines, line)
        if index < len(self.lines) and self.lines[index] == line:
            return index + 1
        return None

    def after(self, line: int) -> int | None:
        """The first match at or after `line`, if the count has decided it."""
        index = bisect.bisect_left(self.lines, line)
        if index < len(self.lines):
            return self.lines[index]
        return None

    def before(self, line: int) -> int | None:
        """The last match at or before `line`, if the count has reached it."""
        if line >= self.counted_to and not self.done:
            return None
        index = bisect.bisect_right(self.lines, line)
        return self.lines[index - 1] if index else None


async def find_match(
    runner: Runner,
    run_id: str,
    task: str,
    query: LogQuery,
    start: int,
    *,
    backwards: bool,
    total: int,
) -> int | None:
    """The first matching line from `start` on (or back to 0), asking the runner."""
    if not backwards:
        line = max(start, 0)
        while True:
            page = await runner.search_log(
                run_id, task, query.pattern, regex=query.regex, start=line, limit=1
            )
            if page.lines:
                return page.lines[0]
            if page.done:
                return None
            line = page.next
    end = min(start + 1, total)
    window = BACK_WINDOW
    while end > 0:
        begin = max(0, end - window)
        found: list[int] = []
        line = begin
        while True:
            page = await runner.search_log(
                run_id, task, query.pattern, regex=query.regex, start=line, end=end
            )
            found.extend(page.lines)
            if page.done:
                break
            line = page.next
        if found:
            return found[-1]
        end, window = begin, window * 2
    return None


ERROR_CANDIDATE = ERROR_PATTERN.pattern + r"|exit"
"""Lines that may be error lines (`is_error_line` decides, knowing the stream)."""


async def first_error(buffer: LogBuffer) -> tuple[LogLine | None, bool]:
    """The first error line (True), else the first stderr line (False), else (None, False).

    The runner finds the candidates; the first stderr line, needed only in a log without an
    error, is looked for by reading the log."""
    runner, run_id, task = buffer.runner, buffer.run_id, buffer.task
    start = 0
    while True:
        page = await runner.search_log(
            run_id, task, ERROR_CANDIDATE, regex=True, ignore_case=True, start=start, limit=500
        )
        for number in page.lines:
            chunk = await runner.read_log(run_id, task, start=number, limit=1)
            if chunk.lines and is_error_line(chunk.lines[0]):
                return chunk.lines[0], True
        if page.done:
            break
        start = page.next
    async for line in buffer.scan(0):
        if line.stream == LogStream.ERR:
            return line, False
    return None, False
