"""Where a log search matches: every matching line number, so the status line can say 2/12.

The count is one background scan of the whole log in chunks (nothing but the line numbers is
kept: 4 bytes a match); live lines at the end of what was looked at are counted as they come.
"""

from __future__ import annotations

import bisect
import re
from array import array

from shipdeck.logtext import visible
from shipdeck.model import LogLine, LogStream
from shipdeck.tui.log_buffer import LogBuffer
from shipdeck.tui.log_line import is_error_line


class LogMatches:
    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.lines = array("I")
        """Matching line numbers, ascending."""
        self.done = False
        self._counted_to = 0
        """Lines below this number have been looked at."""

    async def count(self, buffer: LogBuffer) -> None:
        """Scan the whole log once (run in a worker; cancelling it leaves `done` False)."""
        async for line in buffer.scan(0):
            self._look(line)
        self.done = True

    def add_live(self, lines: list[LogLine]) -> None:
        """Lines from the event stream. Only the next line not looked at yet counts: lines
        further on are ones the scan has not reached, and it will read them itself."""
        for line in lines:
            if line.n == self._counted_to:
                self._look(line)

    def _look(self, line: LogLine) -> None:
        if line.n < self._counted_to:
            return
        self._counted_to = line.n + 1
        if self.regex.search(visible(line.text)):
            self.lines.append(line.n)

    def position(self, line: int | None) -> int | None:
        """1-based index of the match on `line` among all matches (None if it is not one)."""
        if line is None:
            return None
        index = bisect.bisect_left(self.lines, line)
        if index < len(self.lines) and self.lines[index] == line:
            return index + 1
        return None


async def find_match(
    buffer: LogBuffer, regex: re.Pattern[str], start: int, *, backwards: bool
) -> LogLine | None:
    """The first line from `start` on (or back) that the search matches."""
    async for line in buffer.scan(start, backwards=backwards):
        if regex.search(visible(line.text)):
            return line
    return None


async def first_error(buffer: LogBuffer) -> tuple[LogLine | None, bool]:
    """The first error line (True), else the first stderr line (False), else (None, False)."""
    first_stderr: LogLine | None = None
    async for line in buffer.scan(0):
        if is_error_line(line):
            return line, True
        if first_stderr is None and line.stream == LogStream.ERR:
            first_stderr = line
    return first_stderr, False
