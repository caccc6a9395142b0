"""Durations as people write them: "500ms", "30s", "10m", "1h30m", or a number of seconds."""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)\s*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_EXPECTED = "expected a number of seconds or a duration like '500ms', '30s', '10m', '1h30m'"


def parse_duration(text: str | int | float) -> float:
    """Seconds in `text`; raises ValueError with a one-line explanation when it is not a duration.

    Numbers are seconds. Strings combine parts from largest to smallest unit (d, h, m, s, ms),
    each unit at most once: "1h30m", "2m 30s", "1.5s".
    """
    if isinstance(text, bool):
        raise ValueError(f"bad duration {text!r}: {_EXPECTED}")
    if isinstance(text, int | float):
        return _checked(float(text), repr(text))
    if not isinstance(text, str):
        raise ValueError(f"bad duration {text!r}: {_EXPECTED}")
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        return _checked(float(stripped), repr(text))
    return _checked(_parse_parts(text, stripped), repr(text))


def _parse_parts(text: str, stripped: str) -> float:
    total = 0.0
    position = 0
    previous_unit: float | None = None
    while position < len(stripped):
        match = _PART.match(stripped, position)
        if match is None:
            raise ValueError(f"bad duration {text!r}: {_EXPECTED}")
        unit = _UNIT_SECONDS[match.group(2)]
        if previous_unit is not None and unit >= previous_unit:
            raise ValueError(
                f"bad duration {text!r}: write units once each, largest first (like '1h30m')"
            )
        previous_unit = unit
        total += float(match.group(1)) * unit
        position = match.end()
    if previous_unit is None:
        raise ValueError(f"bad duration {text!r}: {_EXPECTED}")
    return total


def _checked(seconds: float, shown: str) -> float:
    if not math.isfinite(seconds):
        raise ValueError(f"bad duration {shown}: must be a finite number of seconds")
    if seconds < 0:
        raise ValueError(f"bad duration {shown}: must not be negative")
    return seconds
