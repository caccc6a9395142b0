"""Pure text helpers: durations, ages, status glyphs. Times come from an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text

from shipdeck.model import Run, RunStatus, TaskRun, TaskStatus

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


STATUS_GLYPH: dict[str, str] = {
    "queued": "○",
    "pending": "○",
    "running": "●",
    "retrying": "↻",
    "cancelling": "⊖",
    "succeeded": "✓",
    "failed": "✗",
    "skipped": "↷",
    "cancelled": "⊘",
    "interrupted": "!",
}

STATUS_WORD: dict[str, str] = {
    "queued": "queued",
    "pending": "pending",
    "running": "running",
    "retrying": "retrying",
    "cancelling": "cancelling",
    "succeeded": "ok",
    "failed": "failed",
    "skipped": "skipped",
    "cancelled": "cancelled",
    "interrupted": "interrupted",
}


def glyph(status: RunStatus | TaskStatus | str) -> str:
    return STATUS_GLYPH.get(str(status), "?")


def run_elapsed(run: Run, now: datetime) -> float | None:
    """Seconds the run has been going (or went, once finished)."""
    if run.started_at is None:
        return None
    end = run.finished_at or now
    return (end - run.started_at).total_seconds()


def task_elapsed(task: TaskRun, now: datetime) -> float | None:
    if task.started_at is None:
        return None
    end = task.finished_at or now
    return (end - task.started_at).total_seconds()


def progress_bar(done: int, total: int, width: int = 10) -> str:
    if total <= 0:
        return "▱" * width
    filled = min(width, round(width * done / total))
    return "▰" * filled + "▱" * (width - filled)


def clip(text: str, width: int) -> str:
    """Cut text to `width` cells, marking the cut with an ellipsis."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return text[: width - 1] + "…"


NAME_CELLS = 24
"""The widest a user-chosen name (pipeline, task, model, service, runner) is drawn in a list:
any length is allowed, and one long name must not push every row's other columns off-screen."""


def clip_name(name: str) -> str:
    """A name cut to NAME_CELLS cells, with an ellipsis where it was cut."""
    return clip(name, NAME_CELLS)


def format_param(value: object) -> str:
    """A param value as the user would type it (`true`, not `True`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def error_line(message: object) -> Text:
    """`error: <message>` for a dialog, as plain text: the message may hold what the user
    typed or what a runner said, and markup would eat brackets or fail on `[/x]`."""
    return Text.assemble(("error: ", "bold"), str(message))
