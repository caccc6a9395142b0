"""Searching a stored task log where it lies: the lines whose visible text matches, as runs of
line numbers, a page at a time.

A search must match what a line shows (`shipdeck.logtext.visible`), not its codes, and not the
timestamp and stream prefix every log line starts with. Checking a million lines one by one in
Python costs seconds, so the mapped file is searched as bytes with whole-array operations
(`shipdeck.engine.runs.log_hits`: numpy compares for a literal or a fixed-width regular expression,
`finditer` reduced to start offsets for another), hits placed on lines by the line index, and
only the lines where bytes and text could disagree are checked as text:

- *marked* lines hold a control byte (an escape sequence, a carriage return, ...) or the lead
  byte of a C1 control: their visible text differs from their bytes;
- *non-ASCII* lines, when the search folds case or is a regular expression: `re` on bytes
  folds only ASCII and reads `.` and `\\w` byte by byte.

`LogScanner` finds both sets once per file (one `bytes.translate` over bytes it has not seen)
and keeps them with their visible text, matched in one pass over the texts joined. A regular
expression whose match may be empty or take a newline goes match by match; one that anchors at
the start of a line (`^`) skips the bytes and checks every line as text; one that looks around
its match (`(?=`, `(?<=`, ...) or at the ends of the string (`\\A`, `\\Z`) checks each line alone.
"""

from __future__ import annotations

import bisect
import functools
import mmap
import os
import re
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipdeck.engine.runs.log_hits import (
    Scratch,
    byte_sets,
    first_per_line,
    literal_hits,
    prefixed,
    regex_starts,
    set_hits,
    stays_in_line,
    to_spans,
    without,
)
from shipdeck.engine.runs.logfile import TS_WIDTH, LogIndex
from shipdeck.logtext import CONTROL, compile_search, visible

if TYPE_CHECKING:
    from shipdeck.engine.runs.log_hits import Ints

PREFIX = TS_WIDTH + 3
"""Bytes before a line's text: `<timestamp> <O|E|S> `."""
PAGE_BYTES = 128 << 20
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
    line_bound: bool = True
    """Every match of `raw` lies inside one line and is not empty (see `stays_in_line`)."""
    text_line_bound: bool = True
    """The same for `lines`."""
    sets: tuple[bytes, ...] | None = None
    """A regular expression of fixed width, as the bytes each position takes (`byte_sets`)."""


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
    return LogSearch(
        text,
        lines,
        raw,
        None,
        False,
        True,
        raw is not None and stays_in_line(raw),
        stays_in_line(lines),
        byte_sets(raw) if raw is not None and stays_in_line(raw) else None,
    )


@dataclass(frozen=True)
class Found:
    spans: list[int]
    """Matching lines as ascending runs, flattened: `[first, stop, first, stop, ...]`."""
    next: int
    """The first line not looked at."""

    @property
    def lines(self) -> list[int]:
        """Matching line numbers, ascending."""
        pairs = zip(self.spans[::2], self.spans[1::2], strict=True)
        return [line for first, stop in pairs for line in range(first, stop)]


class _LinesOfAKind:
    """Numbers (ascending) of the lines of one kind, with their visible text while the texts
    of all kinds kept stay under TEXT_BUDGET characters."""

    def __init__(self) -> None:
        self.lines = array("q")
        self.texts: list[str] | None = []
        self.starts = array("q")
        """Where each kept text starts in all of them joined by newlines."""

    def between(self, start: int, stop: int) -> tuple[int, int]:
        """Indexes [i, j) of the lines in [start, stop)."""
        return bisect.bisect_left(self.lines, start), bisect.bisect_left(self.lines, stop)


TEXT_BUDGET = 64_000_000
"""Characters of visible text kept per log for lines checked as text (beyond: made again at
each search)."""


class LogScanner:
    """Searches one log file through its line index, and remembers which of its lines are
    marked or non-ASCII, with their visible text. May run in a worker thread while the index
    grows in another."""

    def __init__(self, index: LogIndex) -> None:
        self.index = index
        self._marked = _LinesOfAKind()
        self._non_ascii = _LinesOfAKind()
        """Non-ASCII lines that are not marked."""
        self._kept = 0
        """Characters of text kept."""
        self._classified = 0
        """Lines below this number are sorted into the kinds above."""
        self._lock = threading.Lock()
        self._map: mmap.mmap | None = None

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

        import numpy as np

        found: list[Ints] = []
        count = 0
        scratch = Scratch()
        fd = os.open(self.index.path, os.O_RDONLY)
        view = self._mapped(fd, size)
        try:
            line = start
            while line < end and count < limit:
                stop = max(line + 1, min(end, _line_at(offsets, byte(line) + CHUNK_BYTES)))
                # Where matches are dense, a chunk only as long as the matches still wanted
                # need (the lines after the last match kept are read again by the next page):
                # going by the density so far, and at first as if every line matched.
                wanted = limit - count
                density = count / (line - start) if line > start else 1.0
                stop = min(stop, line + 1024 + int(wanted / max(density, 1e-9)))
                self._classify(fd, offsets, stop, size)
                chunk = _Chunk(view, 0, line, stop, offsets, byte, scratch)
                lines = self._chunk(chunk, search)
                found.append(lines)
                count += lines.size
                line = stop
                if byte(line) - byte(start) >= page_bytes:
                    break
        finally:
            os.close(fd)
        every = np.concatenate(found) if found else np.empty(0, np.int64)
        if every.size > limit:
            return Found(to_spans(every[:limit]), int(every[limit - 1]) + 1)
        return Found(to_spans(every), line)

    def _mapped(self, fd: int, size: int) -> mmap.mmap:
        """The file mapped, at least its first `size` bytes. Mapped, not read: the bytes are
        searched where the page cache holds them; and mapped once, not per page, as mapping
        91 MB again costs ~20,000 page faults. A mapping too short for a grown file is
        replaced (and unmapped once no search uses it)."""
        with self._lock:
            if self._map is None or len(self._map) < size:
                self._map = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            return self._map

    # Marked and non-ASCII lines -------------------------------------------------------------

    def _classify(self, fd: int, offsets: array[int], stop: int, size: int) -> None:
        """Sort the lines below `stop` into marked and non-ASCII, once."""
        with self._lock:
            while self._classified < stop:
                first = self._classified
                last = max(first + 1, min(stop, _line_at(offsets, offsets[first] + CHUNK_BYTES)))
                begin = offsets[first]
                finish = offsets[last] if last < len(offsets) else size

                def byte(line: int) -> int:
                    return offsets[line] if line < len(offsets) else size

                data = os.pread(fd, finish - begin, begin)
                if not data.isascii() or data.translate(_CLASSES).find(_MARK) >= 0:
                    self._sort(
                        _Chunk(data, begin, first, last, offsets, byte), data.translate(_CLASSES)
                    )
                self._classified = last

    def _sort(self, chunk: _Chunk, classes: bytes) -> None:
        marked: set[int] = set()
        for mark, kind in ((b"\x1b", self._marked), (b"\x80", self._non_ascii)):
            at = classes.find(mark)
            while at >= 0:
                line = _line_at_offset(chunk, at)
                if line not in marked:
                    kind.lines.append(line)
                    if kind is self._marked:
                        marked.add(line)
                    self._keep(kind, chunk.row(line))
                at = classes.find(mark, chunk.byte(line + 1) - chunk.begin)

    def _keep(self, kind: _LinesOfAKind, row: bytes) -> None:
        if kind.texts is None:
            return
        text = _visible_body(row)
        self._kept += len(text)
        if self._kept > TEXT_BUDGET:
            self._marked.texts = self._non_ascii.texts = None
            return
        kind.starts.append(kind.starts[-1] + len(kind.texts[-1]) + 1 if kind.texts else 0)
        kind.texts.append(text)

    # One chunk ------------------------------------------------------------------------------

    def _chunk(self, chunk: _Chunk, search: LogSearch) -> Ints:
        """Matching lines of the chunk, ascending."""
        import numpy as np

        if search.raw is None:
            return _array(_text_matches(search, chunk, range(chunk.start, chunk.stop)))
        kinds = [self._marked, self._non_ascii] if search.ascii_only else [self._marked]
        spans = [kind.between(chunk.start, chunk.stop) for kind in kinds]
        skip = np.sort(
            np.concatenate(
                [
                    np.frombuffer(kind.lines[i:j], np.int64)
                    for kind, (i, j) in zip(kinds, spans, strict=True)
                ]
            ),
            kind="stable",
        )
        found = [_raw_lines(search, chunk, skip)]
        for kind, (i, j) in zip(kinds, spans, strict=True):
            if i == j:
                continue
            lines = kind.lines[i:j]
            if kind.texts is not None:
                texts = kind.texts[i:j]
                if search.text_line_bound:
                    found.append(_kept_matches(search, texts, lines, kind.starts[i:j]))
                    continue
                text_found = _joined_matches(search, "\n".join(texts), lines, texts.__getitem__)
            else:
                text_found = _text_matches(search, chunk, lines)
            found.append(_array(text_found))
        if len(found) == 1:
            return found[0]
        return np.sort(np.concatenate(found), kind="stable")  # sorted runs: a merge


class _Chunk:
    """Lines [start, stop) of a log, read: their bytes `data` start at file offset `begin`;
    `byte(n)` is where line n starts (for n up to `stop`), from the index's `offsets`."""

    def __init__(
        self,
        data: bytes | mmap.mmap,
        begin: int,
        start: int,
        stop: int,
        offsets: array[int],
        byte: Callable[[int], int],
        scratch: Scratch | None = None,
    ) -> None:
        self.data = data
        self.scratch = scratch or Scratch()
        """Work arrays, shared by the chunks of one search."""
        self.begin = begin
        self.start = start
        self.stop = stop
        self.offsets = offsets
        self.byte = byte

    def row(self, line: int) -> bytes:
        """One line's bytes, without its newline."""
        return self.data[self.byte(line) - self.begin : self.byte(line + 1) - self.begin - 1]


def _line_at_offset(chunk: _Chunk, at: int) -> int:
    """The line of the chunk holding its byte `at`."""
    return bisect.bisect_right(chunk.offsets, chunk.begin + at, chunk.start, chunk.stop) - 1


def _array(lines: Sequence[int]) -> Ints:
    import numpy as np

    return np.fromiter(lines, np.int64, len(lines))


def _raw_lines(search: LogSearch, chunk: _Chunk, skip: Ints) -> Ints:
    """Lines of the chunk, not in `skip` (ascending), whose text part the bytes match."""
    import numpy as np

    raw = search.raw
    assert raw is not None
    low, high = chunk.byte(chunk.start) - chunk.begin, chunk.byte(chunk.stop) - chunk.begin
    if not search.line_bound:
        return _array(_raw_matches(search, chunk, set(skip.tolist())))
    block = np.frombuffer(chunk.data, np.uint8, high - low, low)
    starts = np.frombuffer(chunk.offsets[chunk.start : chunk.stop], np.int64) - (chunk.begin + low)
    every = True
    """`hits` holds every match (else only those `finditer` gives: none overlapping)."""
    if search.needle is not None:
        hits = literal_hits(block, search.needle, search.fold, chunk.scratch)
    elif (
        search.sets is not None
        and (found := set_hits(block, search.sets, chunk.scratch)) is not None
    ):
        hits = found
    else:
        hits, every = regex_starts(raw, chunk.data, low, high), False
    where = np.searchsorted(starts, hits, "right") - 1
    in_text = hits >= starts[where] + PREFIX
    lines = first_per_line(where[in_text])
    # Lines hit only inside their first PREFIX bytes: a match if the line has no prefix
    # (all of it is text), else if its text holds one (the regex's hit may have hidden it).
    only_prefix = without(first_per_line(where[~in_text]), lines)
    only_prefix = without(only_prefix + chunk.start, skip) - chunk.start
    if only_prefix.size:
        stops = np.append(starts[1:], high - low)
        bare = ~prefixed(block, starts[only_prefix], stops[only_prefix])
        extra = [only_prefix[bare]]
        if not every:
            extra.append(
                _array(
                    [
                        index
                        for index in only_prefix[~bare].tolist()
                        if raw.search(
                            chunk.data,
                            low + int(starts[index]) + PREFIX,
                            low + int(stops[index]) - 1,
                        )
                    ]
                )
            )
        lines = np.union1d(lines, np.concatenate(extra))
    lines = lines + chunk.start
    del block
    return without(lines.astype(np.int64, copy=False), skip)


def _raw_matches(search: LogSearch, chunk: _Chunk, skip: set[int]) -> list[int]:
    """Lines of the chunk, not in `skip`, whose text part the bytes match, one match at a
    time: for a regular expression whose matches may be empty or cross a line end."""
    raw = search.raw
    assert raw is not None
    low, high = chunk.byte(chunk.start) - chunk.begin, chunk.byte(chunk.stop) - chunk.begin
    hay = chunk.data
    found: list[int] = []
    at, limit = low, high
    while at < limit:
        match = raw.search(hay, at, limit)
        if match is None:
            break
        line = _line_at_offset(chunk, match.start())
        line_start = chunk.byte(line) - chunk.begin
        after = chunk.byte(line + 1) - chunk.begin
        if line in skip:
            pass  # checked as text
        elif match.start() >= line_start + PREFIX and match.end() < after:
            found.append(line)
        elif (
            match.end() <= line_start + PREFIX
            and match.start() < match.end()
            and _PREFIXED.match(chunk.data, line_start)
        ):
            after = line_start + PREFIX  # inside the prefix: look again in the text
        elif _shows_match(search, chunk.row(line)):
            found.append(line)  # across the prefix or a line end: the text decides
        at = after
    return found


def _text_matches(search: LogSearch, chunk: _Chunk, lines: Sequence[int]) -> list[int]:
    """Which of the chunk's `lines` show a match, checked as text: joined, decoded and
    stripped of control sequences in one call each."""
    if search.lines is None:
        return [line for line in lines if _shows_match(search, chunk.row(line))]
    parts = []
    for line in lines:
        body = _body(chunk.row(line))
        parts.append(body.rsplit(b"\r", 1)[-1] if b"\r" in body else body)
    shown = CONTROL.sub("", b"\n".join(parts).decode("utf-8", errors="replace"))

    def text(index: int) -> str:
        return _visible_body(chunk.row(lines[index]))

    return _joined_matches(search, shown, lines, text)


def _kept_matches(
    search: LogSearch, texts: list[str], lines: array[int], starts: array[int]
) -> Ints:
    """Which of `lines` show a match, given their visible texts (starting at `starts` in all
    kept texts joined), for a search whose matches lie inside one line: one pass over the texts
    joined, the hits placed by array operations."""
    import numpy as np

    pattern = search.lines
    assert pattern is not None
    hits = np.fromiter(map(re.Match.start, pattern.finditer("\n".join(texts))), np.int64)
    if not hits.size:
        return np.empty(0, np.int64)
    offsets = np.frombuffer(starts, np.int64)
    where = first_per_line(np.searchsorted(offsets, hits + offsets[0], "right") - 1)
    matched: Ints = np.frombuffer(lines, np.int64)[where]
    return matched


def _joined_matches(
    search: LogSearch, shown: str, lines: Sequence[int], text: Callable[[int], str]
) -> list[int]:
    """Which of `lines` show a match, given their visible texts joined by newlines; `text(i)`
    is the visible text of the i-th, to decide a match that spans lines."""
    pattern = search.lines
    assert pattern is not None
    found: list[int] = []
    index, line_start, size = 0, 0, len(shown)
    while line_start <= size:
        match = pattern.search(shown, line_start)
        if match is None:
            break
        index += shown.count("\n", line_start, match.start())
        line_end = shown.find("\n", match.start())
        line_end = size if line_end < 0 else line_end
        if match.end() <= line_end or search.text.search(text(index)):
            found.append(lines[index])
        index += 1
        line_start = line_end + 1
        if len(found) > 256 and len(found) * DENSE > index:
            # Most lines match: test each of the rest, rather than find each match's line.
            check = search.text.search
            found.extend(lines[i] for i in range(index, len(lines)) if check(text(i)))
            break
    return found


def _shows_match(search: LogSearch, row: bytes) -> bool:
    """Whether one line's visible text matches."""
    return bool(search.text.search(_visible_body(row)))


def _visible_body(row: bytes) -> str:
    return visible(_body(row).decode("utf-8", errors="replace"))


def _body(row: bytes) -> bytes:
    """A log line's text: after its prefix; all of it for a line not written by shipdeck (as
    the reader says)."""
    return row[PREFIX:] if _PREFIXED.match(row) else row


def _line_at(offsets: array[int], position: int) -> int:
    """The line holding byte `position`."""
    return bisect.bisect_right(offsets, position) - 1
