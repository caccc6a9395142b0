"""Lines captured from a task's stdout and stderr, and shipdeck's own notes about the task."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


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

    run_id: int
    task: str
    start: int
    lines: list[LogLine]
    total: int
    finished: bool
    """True when the task will write no more lines."""
