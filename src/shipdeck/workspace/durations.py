"""Durations as people write them: "500ms", "30s", "10m", "1h30m", or a number of seconds."""

from __future__ import annotations

import math
import re

from shipdeck.workspace.problems import quoted, short_int

_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
LONGEST = 365 * 86400.0
"""No duration in the workspace file is longer: a longer one is a typo, and past ~10**14 s
the date arithmetic of soak gates and deadlines overflows."""
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)\s*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_EXPECTED = "expected a number of seconds or a duration like '500ms', '30s', '10m', '1h30m'"


def parse_duration(text: str | int | float) -> float:
    """Seconds in `text`; raises ValueError with a one-line explanation when it is not a duration.

    Numbers are seconds. Strings combine parts from largest to smallest unit (d, h, m, s, ms),
    each unit at most once: "1h30m", "2m 30s", "1.5s".
    """
    if isinstance(text, bool):
        raise ValueError(f"bad duration {_shown(text)}: {_EXPECTED}")
    if isinstance(text, int | float):
        # An integer past ~10**308 has no float; anything near that is far too long anyway.
        number = float(min(text, int(LONGEST) + 1)) if isinstance(text, int) else text
        return _checked(number, _shown(text))
    if not isinstance(text, str):
        raise ValueError(f"bad duration {_shown(text)}: {_EXPECTED}")
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        return _checked(min(float(stripped), LONGEST + 1), _shown(text))
    return _checked(min(_parse_parts(text, stripped), LONGEST + 1), _shown(text))


def _shown(text: str | int | float) -> str:
    if isinstance(text, str):
        return quoted(text)
    return short_int(text) if isinstance(text, int) else repr(text)


def _parse_parts(text: str, stripped: str) -> float:
    total = 0.0
    position = 0
    previous_unit: float | None = None
    while position < len(stripped):
        match = _PART.match(stripped, position)
        if match is None:
            raise ValueError(f"bad duration {_shown(text)}: {_EXPECTED}")
        unit = _UNIT_SECONDS[match.group(2)]
        if previous_unit is not None and unit >= previous_unit:
            raise ValueError(
                f"bad duration {_shown(text)}: write units once each, largest first (like '1h30m')"
            )
        previous_unit = unit
        total += float(match.group(1)) * unit
        position = match.end()
    if previous_unit is None:
        raise ValueError(f"bad duration {_shown(text)}: {_EXPECTED}")
    return total


def _checked(seconds: float, shown: str) -> float:
    if not math.isfinite(seconds):
        raise ValueError(f"bad duration {shown}: must be a finite number of seconds")
    if seconds < 0:
        raise ValueError(f"bad duration {shown}: must not be negative")
    if seconds > LONGEST:
        raise ValueError(f"bad duration {shown}: must be at most {format_duration(LONGEST)}")
    return seconds


def format_duration(seconds: float) -> str:
    """`seconds` in the largest unit that holds it whole: 604800 -> '7d', 90 -> '90s'."""
    for unit, size in _UNIT_SECONDS.items():
        count = seconds / size
        if count >= 1 and count == int(count):
            return f"{int(count)}{unit}"
    return f"{seconds:g}s"
