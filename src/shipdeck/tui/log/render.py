"""How one log line is drawn: its colours by stream and its own (SGR), a timestamp, search
hits. No textual imports: the log view hands in the styles of its component classes."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from shipdeck.model import LogLine, LogStream
from shipdeck.tui.log.line import Span, expand_tabs, is_error_line, shown_line

TIMESTAMP_WIDTH = 13


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
    """The line as segments: stream colour under the task's own colours, optional
    `HH:MM:SS.mmm` stamp, highlighted hits (`current`: the line holds the selected match)."""
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
    shown = shown_line(line.text)
    spans = list(shown.colours)
    if regex is not None:
        hit = styles.current if current else styles.match
        spans.extend(
            (match.start(), match.end(), hit)
            for match in regex.finditer(shown.plain)
            if match.start() < match.end()
        )
    plain, spans = expand_tabs(shown.plain, spans)
    segments.extend(_styled(plain, text_style, spans))
    return segments


def _styled(plain: str, style: Style, spans: list[Span]) -> list[Segment]:
    """`plain` cut where spans start and end, each piece in `style` plus the spans over it
    (later spans on top)."""
    if not spans:
        return [Segment(plain, style)]
    cuts = sorted({0, len(plain), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    segments: list[Segment] = []
    for start, end in itertools.pairwise(cuts):
        if start >= end or end > len(plain):
            continue
        piece = style
        for span_start, span_end, span_style in spans:
            if span_start <= start and end <= span_end:
                piece += span_style
        segments.append(Segment(plain[start:end], piece))
    return segments


def match_columns(text: str, regex: re.Pattern[str], *, timestamps: bool) -> tuple[int, int]:
    """The cells [start, end) of the line's first match as drawn ((0, 0) without one)."""
    plain = shown_line(text).plain
    match = regex.search(plain)
    if match is None:
        return 0, 0
    shown, [(start, end, _)] = expand_tabs(plain, [(match.start(), match.end(), Style())])
    left = (TIMESTAMP_WIDTH if timestamps else 0) + cell_len(shown[:start])
    return left, left + cell_len(shown[start:end])


def reveal_x(start: int, end: int, width: int) -> int:
    """The horizontal scroll that shows columns [start, end) in a view `width` cells wide:
    0 when they fit from the left edge, else the match a third of the way in (its start when
    it is wider than the view)."""
    if end <= width:
        return 0
    return max(0, min(start, max(start - width // 3, end - width)))
