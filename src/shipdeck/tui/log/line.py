"""What one log line shows in the TUI: its visible text, its colours, its width in cells.

Colours are decoded from the line's SGR sequences with Rich's ANSI decoder, after every other
control sequence is dropped (`shipdeck.logtext`), so widths count only what is drawn. Most
lines carry no codes and cost one `str.isprintable()`; decoded ones are cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rich.ansi import AnsiDecoder
from rich.cells import cell_len
from rich.style import Style

from shipdeck.logtext import visible, with_colours
from shipdeck.model import LogLine, LogStream

TAB_SIZE = 4

ERROR_PATTERN = re.compile(
    r"\b(error|errors|exception|traceback|fatal|panic|failed|failure)\b", re.IGNORECASE
)

_HARMLESS = Style(blink=False, blink2=False, conceal=False)
"""Laid over a task's colours: no blinking, and no text hidden from the operator."""

Span = tuple[int, int, Style]


@dataclass(frozen=True)
class ShownLine:
    plain: str
    """The visible text (tabs not expanded: see `expand_tabs`)."""
    colours: tuple[Span, ...] = ()
    """The task's own colours, as [start, end) ranges of `plain`."""


def shown_line(text: str) -> ShownLine:
    if text.isprintable():
        return ShownLine(text)
    return _decoded(text)


@lru_cache(maxsize=4096)
def _decoded(text: str) -> ShownLine:
    coloured = with_colours(text)
    if "\x1b" not in coloured:
        return ShownLine(coloured)
    decoded = AnsiDecoder().decode_line(coloured)
    colours = tuple(
        (span.start, span.end, span.style + _HARMLESS)
        for span in decoded.spans
        if isinstance(span.style, Style) and span.start < span.end
    )
    return ShownLine(decoded.plain, colours)


def expand_tabs(plain: str, spans: list[Span]) -> tuple[str, list[Span]]:
    """Tabs to spaces (stops every TAB_SIZE cells), with the spans moved to match."""
    if "\t" not in plain:
        return plain, spans
    where = [0] * (len(plain) + 1)
    """Index in the expanded text of each index of `plain`."""
    parts: list[str] = []
    column = size = 0
    for index, char in enumerate(plain):
        where[index] = size
        if char == "\t":
            spaces = TAB_SIZE - column % TAB_SIZE
            parts.append(" " * spaces)
            column += spaces
            size += spaces
        else:
            parts.append(char)
            column += cell_len(char) if not char.isascii() else 1
            size += 1
    where[len(plain)] = size
    return "".join(parts), [(where[start], where[end], style) for start, end, style in spans]


def display_width(text: str) -> int:
    """Cells the line takes on screen."""
    if text.isascii() and text.isprintable():
        return len(text)
    return cell_len(expand_tabs(shown_line(text).plain, [])[0])


def is_error_line(line: LogLine) -> bool:
    return bool(ERROR_PATTERN.search(visible(line.text))) or (
        line.stream == LogStream.SYS and "exit" in line.text.lower()
    )
