"""What a line of task output shows, and how a log search matches it.

Tasks print terminal control sequences: colours (SGR), but also cursor moves, screen clears,
window titles (OSC), and bare control characters. Written to a terminal as they are, they
drive the operator's terminal; counted as characters, they break every width. So every front
end shows the *visible text* of a line: the last frame after a carriage return (what a
progress bar leaves on screen, as CI log viewers show it), with every control sequence and
control character dropped except the tab. Colours are the one thing kept, where a front end
draws them (`with_colours`), and only a safe subset reaches a terminal (`terminal_colours`).

A search matches the visible text, never the codes (`compile_search`): the runner's search
over a stored log and the TUI's highlighting use the same rules.
"""

from __future__ import annotations

import re

from shipdeck.errors import InvalidInput

CONTROL = re.compile(
    # CSI, 7- and 8-bit: parameters, intermediates, a final byte (absent at the end of a line).
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    # OSC, DCS, SOS, PM, APC strings, up to BEL or ST (or the end of the line).
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    # Any other escape: intermediates and one final byte (ESC c resets the terminal).
    r"|\x1b[ -/]*[0-~]?"
    # Bare control characters (C0 but the tab, DEL, C1).
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
"""One control sequence or control character. A log line never holds a newline; this never
takes one, so it works on many lines joined by newlines as on each alone."""

SGR = re.compile(r"(?:\x1b\[|\x9b)([0-9;]*)m")
"""A Select Graphic Rendition sequence (colours, bold, ...) and its parameters."""

_SAFE_SGR = frozenset(
    {0, 1, 2, 3, 4, 7, 9, 21, 22, 23, 24, 27, 29, 39, 49}.union(
        range(30, 38), range(40, 48), range(90, 98), range(100, 108)
    )
)
"""Parameters a terminal may be given: colours and weights. Not blink, not conceal (text the
operator cannot see), not fonts."""


def visible(text: str) -> str:
    """The text a line shows: its last frame, without control sequences or characters."""
    if text.isprintable():
        return text
    if "\r" in text:
        text = text.rsplit("\r", 1)[-1]
    return CONTROL.sub("", text)


def with_colours(text: str) -> str:
    """The visible text with its SGR sequences kept (as 7-bit `ESC [ ... m`)."""
    if text.isprintable():
        return text
    if "\r" in text:
        text = text.rsplit("\r", 1)[-1]
    return CONTROL.sub(_keep_sgr, text)


def _keep_sgr(match: re.Match[str]) -> str:
    sgr = SGR.fullmatch(match.group())
    return f"\x1b[{sgr.group(1)}m" if sgr is not None else ""


def terminal_colours(text: str) -> str:
    """The visible text with its colours, safe to write to a terminal: SGR parameters outside
    a safe set are dropped, and a line that set any ends with a reset."""
    if text.isprintable():
        return text
    coloured = with_colours(text)
    if "\x1b" not in coloured:
        return coloured
    return SGR.sub(_safe_sgr, coloured) + "\x1b[0m"


def _safe_sgr(match: re.Match[str]) -> str:
    codes = match.group(1).split(";")
    kept: list[str] = []
    i = 0
    while i < len(codes):
        code = codes[i]
        if code in ("38", "48"):
            # Extended colour: 5;N (256 colours) or 2;R;G;B (true colour).
            size = {"5": 3, "2": 5}.get(codes[i + 1] if i + 1 < len(codes) else "", 0)
            part = codes[i : i + size]
            if size and len(part) == size and all(c.isdigit() and int(c) < 256 for c in part):
                kept.extend(part)
            i += max(size, 1)
            continue
        if code == "" or (code.isdigit() and int(code) in _SAFE_SGR):
            kept.append(code or "0")
        i += 1
    return f"\x1b[{';'.join(kept)}m" if kept else ""


def has_upper_case(pattern: str, *, regex: bool) -> bool:
    """True when the pattern asks for case: an upper-case letter (in a regex, not one that
    names an escape such as `\\S` or `\\W`)."""
    if not regex:
        return any(c.isupper() for c in pattern)
    return any(c.isupper() for c in re.sub(r"\\.", "", pattern))


def compile_search(
    pattern: str, *, regex: bool = False, ignore_case: bool | None = None
) -> re.Pattern[str]:
    """A search over visible text: the literal pattern, or a regular expression with `regex`.

    `ignore_case` None is smart case: case-insensitive unless the pattern has an upper-case
    letter. Raises InvalidInput for an empty pattern, control characters or a bad regex."""
    if not pattern:
        raise InvalidInput("empty search pattern")
    if CONTROL.search(pattern) or "\n" in pattern:
        raise InvalidInput(f"search pattern {pattern!r} has control characters: it can never match")
    if ignore_case is None:
        ignore_case = not has_upper_case(pattern, regex=regex)
    source = pattern if regex else re.escape(pattern)
    try:
        return re.compile(source, re.IGNORECASE if ignore_case else 0)
    except re.error as error:
        raise InvalidInput(
            f"search pattern {pattern!r} is not a valid regular expression: {error}"
        ) from None
