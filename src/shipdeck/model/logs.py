"""Lines captured from a task's stdout and stderr, and shipdeck's own notes about the task."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from shipdeck.model.ids import Id


class LogStream(StrEnum):
    OUT = "out"
    ERR = "err"
    SYS = "sys"
    """Written by shipdeck itself: attempt started, timed out, command not found, ..."""


class LogLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    n: int
    """0-based line number within the task's log."""
    ts: datetime
    stream: LogStream
    text: str


class LogChunk(BaseModel):
    """A range of a task's log, and how long the log was when it was read."""

    model_config = ConfigDict(frozen=True)

    run_id: Id
    task: str
    start: int
    lines: list[LogLine]
    total: int
    finished: bool
    """True when the task will write no more lines."""


class LogSearchPage(BaseModel):
    """One page of a search over a task's log: the lines whose visible text matches."""

    model_config = ConfigDict(frozen=True)

    run_id: Id
    task: str
    start: int
    """The first line looked at."""
    next: int
    """The first line not looked at: search again from here until `done`."""
    lines: list[int]
    """Matching line numbers in [start, next), ascending."""
    total: int
    """How long the log was when it was searched."""
    finished: bool
    """True when the task will write no more lines."""
    done: bool
    """True when the search reached its end line, or the end of the log as it was."""
