"""Metrics reported by tasks: `::metric key=value [step=N]` lines and $SHIPDECK_METRICS lines."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from shipdeck.model.text import json_object

_KEY = r"[A-Za-z_][A-Za-z0-9_.\-/]*"
_METRIC_LINE = re.compile(
    rf"^::metric\s+(?P<key>{_KEY})=(?P<value>\S+)(?:\s+step=(?P<step>-?\d+))?\s*$"
)
_KEY_ONLY = re.compile(rf"^{_KEY}$")
METRIC_PREFIX = "::metric"


@dataclass(frozen=True, slots=True)
class Reported:
    key: str
    value: float
    step: int | None


class BadMetric(ValueError):
    """A metric line that could not be understood; the message says why, for the task's log."""


def parse_metric_line(line: str) -> Reported:
    """Parse a stdout line that starts with `::metric`."""
    match = _METRIC_LINE.match(line.strip())
    if match is None:
        raise BadMetric(
            f"ignored malformed metric line (want '::metric key=value [step=N]'): {line}"
        )
    value = _finite(match["value"], line)
    step = int(match["step"]) if match["step"] is not None else None
    return Reported(match["key"], value, step)


def parse_metric_json(line: str) -> list[Reported]:
    """One JSON line: {"key": k, "value": v, "step": n} or {"k1": v1, "k2": v2, "step": n}."""
    try:
        data = json_object(line)
    except ValueError as error:
        raise BadMetric(f"ignored metrics line that is {error}: {line}") from None
    step = data.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
        raise BadMetric(f"ignored metrics line with a non-integer step: {line}")
    if "key" in data or "value" in data:
        key, value = data.get("key"), data.get("value")
        extra = set(data) - {"key", "value", "step"}
        if not isinstance(key, str) or not _KEY_ONLY.match(key) or extra:
            raise BadMetric(f"ignored metrics line with a bad key: {line}")
        return [Reported(key, _number(value, line), step)]
    pairs = {k: v for k, v in data.items() if k != "step"}
    if not pairs:
        raise BadMetric(f"ignored metrics line with no values: {line}")
    result: list[Reported] = []
    for key, value in pairs.items():
        if not _KEY_ONLY.match(key):
            raise BadMetric(f"ignored metrics line with a bad key {key!r}: {line}")
        result.append(Reported(key, _number(value, line), step))
    return result


def _number(value: object, line: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadMetric(f"ignored metrics line with a non-numeric value: {line}")
    if not math.isfinite(value):
        raise BadMetric(f"ignored metrics line with a non-finite value: {line}")
    return float(value)


def _finite(text: str, line: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadMetric(f"ignored metric with a non-numeric value: {line}") from None
    if not math.isfinite(value):
        raise BadMetric(f"ignored metric with a non-finite value: {line}")
    return value


class MetricsFileTail:
    """Reads complete lines appended to a task's $SHIPDECK_METRICS file since the last read."""

    def __init__(self, path: Path, *, offset: int = 0, line_number: int = 0) -> None:
        self.path = path
        self.offset = offset
        """Bytes of the file read so far."""
        self.line_number = line_number

    def read_new_lines(self, *, final: bool = False) -> list[tuple[int, str]]:
        """New complete lines with their 1-based numbers; `final` also takes a partial tail."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return []
        try:
            size = os.fstat(fd).st_size
            if size <= self.offset:
                return []
            data = os.pread(fd, size - self.offset, self.offset)
        finally:
            os.close(fd)
        end = len(data) if final else data.rfind(b"\n") + 1
        if end <= 0:
            return []
        self.offset += end
        chunk = data[:end]
        raws = chunk[:-1].split(b"\n") if chunk.endswith(b"\n") else chunk.split(b"\n")
        lines: list[tuple[int, str]] = []
        for raw in raws:
            self.line_number += 1
            if raw.strip():
                lines.append((self.line_number, raw.decode("utf-8", errors="replace")))
        return lines
