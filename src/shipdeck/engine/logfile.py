"""Durable per-task logs: one append-only file per task, read back by line number.

Line format (one captured line per file line):
    <ts: 2024-05-01T12:00:00.123Z> <O|E|S> <text>\n
The timestamp has a fixed width, so parsing is slicing. Lines are written with unbuffered
`os.write` calls, so whatever shipdeck has read from a task is on disk before it is handled.
Reads use an index of line start offsets (an `array('q')`) built once and extended as the
file grows, so reading the tail of a huge log costs one `pread`, not a scan.
"""

from __future__ import annotations

import os
import re
import time
from array import array
from datetime import UTC, datetime
from pathlib import Path

from shipdeck.model import LogLine, LogStream

TS_WIDTH = 24
_STREAM_CODE = {LogStream.OUT: "O", LogStream.ERR: "E", LogStream.SYS: "S"}
_CODE_STREAM = {code.encode(): stream for stream, code in _STREAM_CODE.items()}
_READ_BLOCK = 1 << 20
_NEWLINE = re.compile(b"\n")


def format_ts(epoch: float) -> str:
    """UTC ISO-8601 with milliseconds and a trailing Z: always TS_WIDTH characters."""
    millis = int(epoch * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + (
        f".{millis % 1000:03d}Z"
    )


def parse_ts(text: str) -> datetime:
    """The time of a log line. `fromisoformat` parses it ~40x faster than `strptime`, which
    cost more than the rest of reading a line put together."""
    if len(text) != TS_WIDTH or text[-1] != "Z":
        raise ValueError(f"not a log timestamp: {text!r}")
    return datetime.fromisoformat(text)


def stream_code(stream: LogStream) -> str:
    return _STREAM_CODE[stream]


class LogWriter:
    """Appends lines to one task's log file and counts them (the count is the next line number)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._opened = False
        self._lines: int | None = None
        self._torn = False
        """The file ends in a partial line (its writer was killed mid-write): end it first."""

    @property
    def lines(self) -> int:
        if self._lines is None:
            self._lines, self._torn = _count_lines(self.path)
        return self._lines

    def write(self, ts: float, stream: LogStream, lines: list[str]) -> int:
        """Append lines read at one moment from one stream, in one os.write.

        Returns the number of the first line. The file is created on the first write: a task
        that prints nothing costs no file. Lines must not contain newlines.
        """
        first = self.lines
        if not lines:
            return first
        if self._fd is None:
            if self._opened:
                return first
            self._opened = True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if self._torn:
                os.write(self._fd, b"\n")
                first = self._lines = first + 1
        prefix = f"{format_ts(ts)} {_STREAM_CODE[stream]} "
        data = (prefix + f"\n{prefix}".join(lines) + "\n").encode("utf-8", errors="replace")
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._lines = first + len(lines)
        return first

    def close(self) -> None:
        self._opened = True
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _count_lines(path: Path) -> tuple[int, bool]:
    """Complete lines in a log file, and whether it ends in a partial line."""
    count, last = 0, b"\n"
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_READ_BLOCK):
                count += chunk.count(b"\n")
                last = chunk[-1:]
    except FileNotFoundError:
        return 0, False
    return count, last != b"\n"


def append_note(path: Path, text: str) -> None:
    """Append one shipdeck note (an S line) to a log, e.g. from crash recovery."""
    writer = LogWriter(path)
    try:
        writer.write(time.time(), LogStream.SYS, [text])
    finally:
        writer.close()


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
