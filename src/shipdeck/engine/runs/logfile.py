"""Durable per-task logs: one append-only file per task, read back by line number.

Line format (one captured line per file line):
    <ts: 2024-05-01T12:00:00.123Z> <O|E|S> <text>\n
The timestamp has a fixed width, so parsing is slicing. A task's output is appended by the
output keeper (engine/runs/keeper.py) as it reads it, shipdeck's own notes (S) by the engine, both
with unbuffered `os.write` calls of whole lines. The engine follows the file (`LogTail`) to
publish lines and find metrics. Reads by line number use an index of line start offsets (an
`array('q')`) built once and extended as the file grows, so reading the tail of a huge log
costs one `pread`, not a scan.
"""

from __future__ import annotations

import calendar
import os
import re
import time
from array import array
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from shipdeck.engine.runs.keeper import format_lines, format_ts, write_all
from shipdeck.model import LogLine, LogStream

__all__ = ["format_ts"]

TS_WIDTH = 24
_BODY = TS_WIDTH + 3
"""Where a line's text starts: after the timestamp, a space, the stream code and a space."""
_STREAM_CODE = {LogStream.OUT: "O", LogStream.ERR: "E", LogStream.SYS: "S"}
_CODE_STREAM = {code.encode(): stream for stream, code in _STREAM_CODE.items()}
_TEXT_CODE_STREAM = {code: stream for stream, code in _STREAM_CODE.items()}
_READ_BLOCK = 1 << 20
_NEWLINE = re.compile(b"\n")
_EPOCH_SECONDS: dict[str, int] = {}


def parse_ts(text: str) -> datetime:
    """The time of a log line. `fromisoformat` parses it ~40x faster than `strptime`, which
    cost more than the rest of reading a line put together."""
    if len(text) != TS_WIDTH or text[-1] != "Z":
        raise ValueError(f"not a log timestamp: {text!r}")
    return datetime.fromisoformat(text)


def stamp_epoch(stamp: str) -> float:
    """Seconds since the epoch of a log timestamp (format_ts), cheaply: lines come in bursts
    within one second, so the seconds part is parsed once per second."""
    seconds = _EPOCH_SECONDS.get(stamp[:19])
    if seconds is None:
        if len(_EPOCH_SECONDS) > 256:
            _EPOCH_SECONDS.clear()
        seconds = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
        _EPOCH_SECONDS[stamp[:19]] = seconds
    return seconds + int(stamp[20:23]) / 1000


class LogWriter:
    """Appends lines to one task's log file and counts them (the count is the next line number)."""

    def __init__(self, path: Path, *, repair: bool = True) -> None:
        self.path = path
        self._fd: int | None = None
        self._opened = False
        self._lines: int | None = None
        self._repair = repair
        """End a partial last line (its writer was killed mid-write) before appending. Only
        where no one else writes the file: a line being written looks partial too."""

    @property
    def lines(self) -> int:
        if self._lines is None:
            self._lines = _count_lines(self.path)
        return self._lines

    def write(self, ts: float, stream: LogStream, lines: list[str]) -> int:
        """Append lines read at one moment from one stream; returns the number of the first."""
        first = self.lines  # a partial last line counts: it is ended before these
        self.append(ts, stream, lines)
        self._lines = first + len(lines)
        return first

    def append(self, ts: float, stream: LogStream, lines: list[str]) -> None:
        """Append lines in one os.write (they must not contain newlines), creating the file on
        the first write: a task that prints nothing costs no file."""
        if not lines:
            return
        if self._fd is None:
            if self._opened:
                return
            self._opened = True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
            self._fd = os.open(self.path, flags, 0o644)
            if self._repair and _ends_torn(self._fd):
                os.write(self._fd, b"\n")
        write_all(self._fd, format_lines(ts, _STREAM_CODE[stream], lines))

    def close(self) -> None:
        self._opened = True
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _ends_torn(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def _count_lines(path: Path) -> int:
    """Lines in a log file, a partial last line included."""
    count, last = 0, b"\n"
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_READ_BLOCK):
                count += chunk.count(b"\n")
                last = chunk[-1:]
    except FileNotFoundError:
        return 0
    return count + (last != b"\n")


def append_note(path: Path, text: str) -> None:
    """Append one shipdeck note (an S line) to a log, e.g. from crash recovery."""
    writer = LogWriter(path)
    try:
        writer.append(time.time(), LogStream.SYS, [text])
    finally:
        writer.close()


class LogTail:
    """Follows a log: the complete lines appended since the last read, numbered in order."""

    def __init__(self, path: Path, *, offset: int = 0, number: int = 0) -> None:
        self.path = path
        self.offset = offset
        """Bytes of the file read so far (always at a line boundary)."""
        self.number = number
        """The number of the next line."""
        self._fd: int | None = None

    def read(self, limit: int = _READ_BLOCK) -> list[str]:
        """The complete lines in the next `limit` bytes (more for a longer line), as written
        (parse them with `line_prefix`); [] when there are none yet. The first one's number is
        `number - len(lines)` after the call."""
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return []
        size = limit
        while True:
            data = os.pread(self._fd, size, self.offset)
            end = data.rfind(b"\n") + 1
            if end or len(data) < size:
                break
            size *= 2  # one line longer than that: read on to its end
        if end == 0:
            return []
        self.offset += end
        texts = data[:end].decode("utf-8", errors="replace").split("\n")
        if texts[-1] == "":
            texts.pop()
        self.number += len(texts)
        return texts

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_FOREIGN_STAMP = format_ts(0)


class LinePrefix(NamedTuple):
    """What a log line's prefix says; the lines of one batch share it, so a reader of many
    lines parses it once per batch (`PREFIX` characters compare equal)."""

    stamp: str
    stream: LogStream
    epoch: float
    body: int
    """Where the line's text starts: 0 for a line not written by shipdeck (a hand-edited
    file), shown whole, as a note from the epoch, rather than failing."""


PREFIX = _BODY


def line_prefix(line: str) -> LinePrefix:
    stream = _TEXT_CODE_STREAM.get(line[TS_WIDTH + 1 : TS_WIDTH + 2])
    if stream is None or line[TS_WIDTH : TS_WIDTH + 1] != " " or line[4:5] != "-":
        return LinePrefix(_FOREIGN_STAMP, LogStream.SYS, 0.0, 0)
    try:
        epoch = stamp_epoch(line[:TS_WIDTH])
    except ValueError:
        return LinePrefix(_FOREIGN_STAMP, LogStream.SYS, 0.0, 0)
    return LinePrefix(line[:TS_WIDTH], stream, epoch, _BODY)


class LogIndex:
    """Line start offsets of one log file, extended incrementally as the file grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offsets = array("q")
        self._indexed = 0
        """Bytes of the file covered by complete, indexed lines."""

    @property
    def total(self) -> int:
        return len(self._offsets)

    @property
    def offsets(self) -> array[int]:
        """Where each indexed line starts (only ever appended to)."""
        return self._offsets

    @property
    def indexed_bytes(self) -> int:
        """Bytes of the file covered by complete, indexed lines."""
        return self._indexed

    def refresh(self) -> int:
        """Index lines appended since the last call; returns the number of complete lines."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return self.total
        if size <= self._indexed:
            return self.total
        with self.path.open("rb") as handle:
            position = self._indexed
            handle.seek(position)
            pending = position
            while position < size:
                chunk = handle.read(min(_READ_BLOCK, size - position))
                if not chunk:
                    break
                ends = [position + match.end() for match in _NEWLINE.finditer(chunk)]
                if ends:
                    self._offsets.append(pending)
                    self._offsets.extend(ends[:-1])
                    pending = ends[-1]
                position += len(chunk)
            self._indexed = pending
        return self.total

    def read(self, start: int, limit: int | None) -> tuple[int, list[LogLine]]:
        """Lines [start, start+limit) after refreshing; negative start counts from the end.

        Returns the resolved start line number and the lines.
        """
        total = self.refresh()
        if start < 0:
            start = max(0, total + start)
        start = min(start, total)
        end = total if limit is None else min(total, start + max(0, limit))
        if start >= end:
            return start, []
        first = self._offsets[start]
        last = self._offsets[end] if end < total else self._indexed
        with self.path.open("rb") as handle:
            data = os.pread(handle.fileno(), last - first, first)
        lines: list[LogLine] = []
        for number, raw in enumerate(data.split(b"\n")[: end - start], start):
            lines.append(_parse_line(number, raw))
        return start, lines


def _parse_line(number: int, raw: bytes) -> LogLine:
    text = raw.decode("utf-8", errors="replace")
    try:
        ts = parse_ts(text[:TS_WIDTH])
        stream = _CODE_STREAM[raw[TS_WIDTH + 1 : TS_WIDTH + 2]]
        body = text[TS_WIDTH + 3 :]
    except (ValueError, KeyError):
        # A line not written by shipdeck (hand-edited file): show it rather than fail.
        ts, stream, body = datetime.fromtimestamp(0, UTC), LogStream.SYS, text
    # The validating constructor (in Rust) is faster than model_construct (in Python).
    return LogLine(n=number, ts=ts, stream=stream, text=body)
