"""Lines captured from a task's stdout and stderr, and shipdeck's own notes about the task."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shipdeck.model.frozen import FrozenModel
from shipdeck.model.ids import Id


class LogStream(StrEnum):
    OUT = "out"
    ERR = "err"
    SYS = "sys"
    """Written by shipdeck itself: attempt started, timed out, command not found, ..."""


class LogLine(FrozenModel):
    n: int
    """0-based line number within the task's log."""
    ts: datetime
    stream: LogStream
    text: str


class LogChunk(FrozenModel):
    """A range of a task's log, and how long the log was when it was read."""

    run_id: Id
    task: str
    start: int
    lines: list[LogLine]
    total: int
    finished: bool
    """True when the task will write no more lines."""


class LogSearchPage(FrozenModel):
    """One page of a search over a task's log: the lines whose visible text matches."""

    run_id: Id
    task: str
    start: int
    """The first line looked at."""
    next: int
    """The first line not looked at: search again from here until `done`."""
    spans: list[int]
    """The matching lines in [start, next) as ascending runs, each a pair `first, stop` (the
    lines first to stop - 1), flattened: `[7, 8, 20, 39]` is line 7 and lines 20 to 38.
    Compact where most lines match, and one list of numbers to read."""
    total: int
    """How long the log was when it was searched."""
    finished: bool
    """True when the task will write no more lines."""
    done: bool
    """True when the search reached its end line, or the end of the log as it was."""

    @property
    def runs(self) -> list[tuple[int, int]]:
        """The runs of matching lines, as (first, stop) pairs."""
        return list(zip(self.spans[::2], self.spans[1::2], strict=True))

    @property
    def lines(self) -> list[int]:
        """The matching line numbers, ascending."""
        return [line for first, stop in self.runs for line in range(first, stop)]

    @property
    def count(self) -> int:
        """How many lines match."""
        return sum(self.spans[1::2]) - sum(self.spans[::2])
