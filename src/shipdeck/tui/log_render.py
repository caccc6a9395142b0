"""How one log line is drawn: its colours by stream, a timestamp, search hits. No textual
imports: the log view hands in the styles of its component classes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from shipdeck.model import LogLine, LogStream
from shipdeck.tui.log_buffer import is_error_line

TIMESTAMP_WIDTH = 13
TAB_SIZE = 4


@dataclass(frozen=True)
class LineStyles:
    base: Style
    error: Style
    stderr: Style
    sys: Style
    timestamp: Style
    match: Style
    current: Style


def line_segments(
    line: LogLine,
    styles: LineStyles,
    *,
    timestamps: bool,
    regex: re.Pattern[str] | None,
    current: bool,
) -> list[Segment]:
    """The line as segments: stream colour, optional `HH:MM:SS.mmm` stamp, highlighted hits
    (`current`: the line holds the selected match)."""
    base = styles.base
    if is_error_line(line):
        text_style = base + styles.error
    elif line.stream == LogStream.ERR:
        text_style = base + styles.stderr
    elif line.stream == LogStream.SYS:
        text_style = base + styles.sys
    else:
        text_style = base
    segments: list[Segment] = []
    if timestamps:
        segments.append(
            Segment(line.ts.strftime("%H:%M:%S.%f")[:12] + " ", base + styles.timestamp)
        )
    text = line.text.expandtabs(TAB_SIZE)
    if regex is None:
        segments.append(Segment(text, text_style))
        return segments
    hit_style = text_style + (styles.current if current else styles.match)
    position = 0
    for match in regex.finditer(text):
        if match.start() == match.end():
            continue
        segments.append(Segment(text[position : match.start()], text_style))
        segments.append(Segment(match.group(), hit_style))
        position = match.end()
    segments.append(Segment(text[position:], text_style))
    return segments


def match_columns(text: str, regex: re.Pattern[str], *, timestamps: bool) -> tuple[int, int]:
    """The cells [start, end) of the line's first match as drawn ((0, 0) without one)."""
    shown = text.expandtabs(TAB_SIZE)
    match = regex.search(shown)
    if match is None:
        return 0, 0
    start = (TIMESTAMP_WIDTH if timestamps else 0) + cell_len(shown[: match.start()])
    return start, start + cell_len(match.group())


def reveal_x(start: int, end: int, width: int) -> int:
    """The horizontal scroll that shows columns [start, end) in a view `width` cells wide:
    0 when they fit from the left edge, else the match a third of the way in (its start when
    it is wider than the view)."""
    if end <= width:
        return 0
    return max(0, min(start, max(start - width // 3, end - width)))
