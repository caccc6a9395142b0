"""Searching a stored task log where it lies: the numbers of the lines whose visible text
matches, a page at a time.

A search must match what a line shows (`shipdeck.logtext.visible`), not its codes, and not the
timestamp and stream prefix every log line starts with. Checking a million lines one by one in
Python costs seconds, so the file is searched as bytes, where the `re` engine and
`bytes.lower` run at memory speed, and only the lines where bytes and text could disagree are
checked as text, all of a chunk's at once (joined, decoded and stripped in single calls):

- *marked* lines hold a control byte (an escape sequence, a carriage return, ...) or the lead
  byte of a C1 control: their visible text differs from their bytes;
- *non-ASCII* lines, when the search folds case or is a regular expression: `re` on bytes
  folds only ASCII and reads `.` and `\\w` byte by byte.

`LogScanner` finds both sets once per file (one `bytes.translate` over bytes it has not seen)
and keeps them. A regular expression that anchors at the start of a line (`^`) skips the
bytes and checks every line as text; one that looks around its match (`(?=`, `(?<=`, ...) or
at the ends of the string (`\\A`, `\\Z`) checks each line alone.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from shipdeck.engine.logfile import TS_WIDTH, LogIndex
from shipdeck.logtext import CONTROL, compile_search, visible

PREFIX = TS_WIDTH + 3
"""Bytes before a line's text: `<timestamp> <O|E|S> `."""
PAGE_BYTES = 16 << 20
"""At most this much of the log is looked at per page, so one request stays short."""
CHUNK_BYTES = 4 << 20
DENSE = 8
"""A chunk with a match on more than one line in DENSE goes line by line: faster than
finding each match's line."""

_MARK = 0x1B
_CONTROL_BYTES = [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, 0xC2]
_CLASSES = bytes(
    _MARK if byte in _CONTROL_BYTES else 0x80 if byte >= 0x80 else 0x20 for byte in range(256)
)
"""Marked bytes become ESC, other non-ASCII bytes 0x80, the rest a space."""
_LOOKS_AROUND = re.compile(r"\\[AZ]|\(\?<?[=!]")
"""Parts of a regular expression that see past the line: lookarounds, string ends."""
_PREFIXED = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [OES] ")


@dataclass(frozen=True)
class LogSearch:
    """A search compiled for a stored log (`prepare`)."""

    text: re.Pattern[str]
    """The search over one line's visible text: what decides."""
    lines: re.Pattern[str] | None
    """The same over many lines' visible text joined by newlines (None: one line at a time)."""
    raw: re.Pattern[bytes] | None
    """The same over the bytes of lines that are neither marked nor (`ascii_only`) non-ASCII
    (None: every line is checked as text)."""
    needle: bytes | None
    """A literal search's bytes (lower case when it folds case)."""
    fold: bool
    """Lower-case the bytes before `raw` runs on them."""
    ascii_only: bool
    """Non-ASCII lines are checked as text."""


@functools.lru_cache(maxsize=64)
def prepare(pattern: str, *, regex: bool = False, ignore_case: bool | None = None) -> LogSearch:
    """Compile a search (see `shipdeck.logtext.compile_search`); InvalidInput if it is bad."""
    text = compile_search(pattern, regex=regex, ignore_case=ignore_case)
    folds = bool(text.flags & re.IGNORECASE)
    if not regex:
        needle = pattern.encode().lower() if folds else pattern.encode()
        return LogSearch(text, text, re.compile(re.escape(needle)), needle, folds, folds)
    if _LOOKS_AROUND.search(pattern):
        return LogSearch(text, None, None, None, False, True)
    lines = re.compile(pattern, text.flags | re.MULTILINE)
    raw: re.Pattern[bytes] | None = None
    if pattern.isascii() and "^" not in pattern:
        try:
            raw = re.compile(pattern.encode(), re.MULTILINE | (re.IGNORECASE if folds else 0))
        except re.error:
            raw = None  # valid as text, not as bytes (\N{...}): checked as text
    return LogSearch(text, lines, raw, None, False, True)


@dataclass(frozen=True)
class Found:
    lines: list[int]
    """Matching line numbers, ascending."""
    next: int
    """The first line not looked at."""


class LogScanner:
    """Searches one log file through its line index, and remembers which of its lines are
    marked or non-ASCII. May run in a worker thread while the index grows in another."""

    def __init__(self, index: LogIndex) -> None:
        self.index = index
        self._marked = array("q")
        self._non_ascii = array("q")
        self._classified = 0
        """Lines below this number are sorted into the sets above."""
        self._lock = threading.Lock()

    def search(
        self, search: LogSearch, start: int, end: int, *, limit: int, page_bytes: int = PAGE_BYTES
    ) -> Found:
        """Matches in lines [start, end) of the lines indexed so far, at most `limit` of them,
        looking at about `page_bytes` of the file; go on from `next`."""
        offsets = self.index.offsets
        size = self.index.indexed_bytes
        end = min(end, len(offsets))
        start = max(start, 0)
        if start >= end:
            return Found([], start)

        def byte(line: int) -> int:
            return offsets[line] if line < end else size if end == len(offsets) else offsets[end]

        found: list[int] = []
        fd = os.open(self.index.path, os.O_RDONLY)
        try:
            line = start
            while line < end and len(found) < limit:
                stop = max(line + 1, min(end, _line_at(offsets, byte(line) + CHUNK_BYTES)))
                # Where matches are dense, a chunk only as long as the matches still wanted
                # need (the lines after the last match kept are read again by the next page):
                # going by the density so far, and at first as if every line matched.
                wanted = limit - len(found)
                density = len(found) / (line - start) if line > start else 1.0
                stop = min(stop, line + 1024 + int(wanted / max(density, 1e-9)))
                self._classify(fd, offsets, stop, size)
                begin = byte(line)
                data = os.pread(fd, byte(stop) - begin, begin)
                found.extend(self._chunk(data, begin, offsets, search, line, stop))
                line = stop
                if byte(line) - byte(start) >= page_bytes:
                    break
        finally:
            os.close(fd)
        if len(found) > limit:
            return Found(found[:limit], found[limit - 1] + 1)
        return Found(found, line)

    # Marked and non-ASCII lines -------------------------------------------------------------

    def _classify(self, fd: int, offsets: array[int], stop: int, size: int) -> None:
        """Sort the lines below `stop` into marked and non-ASCII, once."""
        with self._lock:
            while self._classified < stop:
                first = self._classified
                last = max(first + 1, min(stop, _line_at(offsets, offsets[first] + CHUNK_BYTES)))
                begin = offsets[first]
                finish = offsets[last] if last < len(offsets) else size
                data = os.pread(fd, finish - begin, begin)
                if not data.isascii() or data.translate(_CLASSES).find(_MARK) >= 0:
                    classes = data.translate(_CLASSES)
                    for mark, into in ((b"\x1b", self._marked), (b"\x80", self._non_ascii)):
                        at = classes.find(mark)
                        while at >= 0:
                            line = _line_at(offsets, begin + at)
                            into.append(line)
                            after = offsets[line + 1] if line + 1 < len(offsets) else size
                            at = classes.find(mark, after - begin)
                self._classified = last

    def _checked_as_text(self, search: LogSearch, start: int, stop: int) -> list[int]:
        """Lines in [start, stop) that the bytes cannot decide for this search."""
        lines = _between(self._marked, start, stop)
        if search.ascii_only:
            lines = sorted(set(lines).union(_between(self._non_ascii, start, stop)))
        return lines

    # One chunk ------------------------------------------------------------------------------

    def _chunk(
        self, data: bytes, begin: int, offsets: array[int], search: LogSearch, start: int, stop: int
    ) -> list[int]:
        """Matching lines in [start, stop), whose bytes `data` start at file offset `begin`."""
        rows = data.split(b"\n")
        if search.raw is None:
            return _text_matches(search, rows, start, range(start, stop))
        as_text = self._checked_as_text(search, start, stop)
        skip = set(as_text)
        hay = data.lower() if search.fold else data
        needle = search.needle
        found: list[int] = []
        if needle is not None and hay.count(needle) * DENSE > stop - start:
            # Most lines match: test each line, rather than find each match's line.
            rows_hay = hay.split(b"\n") if search.fold else rows

            def in_text(i: int, at: int) -> bool:
                """A hit at `at`, inside where the prefix would be: is there one in the text?"""
                if not _PREFIXED.match(rows[i]):
                    return True  # no prefix (not written by shipdeck): all of it is text
                return rows_hay[i].find(needle, PREFIX) >= 0

            found = [
                start + i
                for i in range(stop - start)
                if ((at := rows_hay[i].find(needle)) >= PREFIX or (at >= 0 and in_text(i, at)))
                and start + i not in skip
            ]
        else:
            raw, at, limit = search.raw, 0, len(hay)
            while at < limit:
                match = raw.search(hay, at, limit)
                if match is None:
                    break
                line = _line_at(offsets, begin + match.start())
                line_start = offsets[line] - begin
                after = line_start + len(rows[line - start]) + 1
                if line in skip:
                    pass  # checked as text below
                elif match.start() >= line_start + PREFIX and match.end() < after:
                    found.append(line)
                elif (
                    match.end() <= line_start + PREFIX
                    and match.start() < match.end()
                    and _PREFIXED.match(rows[line - start])
                ):
                    after = line_start + PREFIX  # inside the prefix: look again in the text
                elif _shows_match(search, rows[line - start]):
                    found.append(line)  # across the prefix or a line end: the text decides
                at = after
        if as_text:
            found.extend(_text_matches(search, rows, start, as_text))
            found.sort()
        return found


def _text_matches(
    search: LogSearch, rows: list[bytes], start: int, lines: Sequence[int]
) -> list[int]:
    """Which of `lines` (numbers; `rows[n - start]` their bytes) show a match, checked as text:
    joined, decoded and stripped of control sequences in one call each."""
    if search.lines is None:
        return [line for line in lines if _shows_match(search, rows[line - start])]
    parts = []
    for line in lines:
        body = _body(rows[line - start])
        parts.append(body.rsplit(b"\r", 1)[-1] if b"\r" in body else body)
    shown = CONTROL.sub("", b"\n".join(parts).decode("utf-8", errors="replace"))
    found: list[int] = []
    pattern, index, line_start, size = search.lines, 0, 0, len(shown)
    while line_start <= size:
        match = pattern.search(shown, line_start)
        if match is None:
            break
        index += shown.count("\n", line_start, match.start())
        line_start = shown.rfind("\n", 0, match.start()) + 1
        line_end = shown.find("\n", match.start())
        line_end = size if line_end < 0 else line_end
        line = lines[index]
        if match.end() <= line_end or _shows_match(search, rows[line - start]):
            found.append(line)
        index += 1
        line_start = line_end + 1
    return found


def _shows_match(search: LogSearch, row: bytes) -> bool:
    """Whether one line's visible text matches."""
    return bool(search.text.search(visible(_body(row).decode("utf-8", errors="replace"))))


def _body(row: bytes) -> bytes:
    """A log line's text: after its prefix; all of it for a line not written by shipdeck (as
    the reader says)."""
    return row[PREFIX:] if _PREFIXED.match(row) else row


def _line_at(offsets: array[int], position: int) -> int:
    """The line holding byte `position`."""
    return bisect.bisect_right(offsets, position) - 1


def _between(lines: array[int], start: int, stop: int) -> list[int]:
    return list(lines[bisect.bisect_left(lines, start) : bisect.bisect_left(lines, stop)])
