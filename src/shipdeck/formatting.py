"""How durations, ages, sizes, counts and metric values read, the same in the CLI, the TUI and
the engine's messages (gates, retention, lineage). Pure functions over numbers: no I/O, no clock
of their own, no terminal styles, so any layer may use them.

Durations are compact and about as wide whatever their size: `0.4s`, `12s`, `3m05s`, `1h02m`,
`3d04h`. Under ten seconds they show tenths; above, they truncate rather than round (59.9 s is
`59s`, not `1m00s`): an elapsed time never shows a minute that has not yet passed.
"""

from __future__ import annotations

from datetime import datetime

NO_VALUE = "-"
"""What stands in a column for a duration, time or value that is not known (yet)."""


def format_duration(seconds: float | None) -> str:
    """`seconds` as `0.4s`, `12s`, `3m05s`, `1h02m`, `3d04h`; a negative one (clocks that
    disagree) as `0.0s`; None as `-`."""
    if seconds is None:
        return NO_VALUE
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_age(moment: datetime | None, now: datetime) -> str:
    """How long before `now` `moment` was, in its largest whole unit: `5s ago`, `3m ago`,
    `2h ago`, `4d ago`; a moment after `now` (clocks that disagree) is `0s ago`."""
    if moment is None:
        return NO_VALUE
    seconds = max(int((now - moment).total_seconds()), 0)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def format_bytes(count: int) -> str:
    """A byte count as people read it, in powers of 1024: `512 B`, `45.2 KiB`, `10.0 GiB`."""
    if count < 1024:
        return f"{count} B"
    value = count / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def plural(n: int, word: str, plural: str | None = None) -> str:
    """`1 event`, `2 events`, `1,200 lines`; `plural` for words that do not just take an s."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def format_number(value: float) -> str:
    """A value in full (six significant figures): what the CLI prints, and gates compare."""
    return f"{value:.6g}"


def format_metric(value: float | None) -> str:
    """A metric value at a glance, four significant figures, never scientific for everyday
    magnitudes: `0.8741`, `12.5`, `1204`; None as `-`."""
    if value is None:
        return NO_VALUE
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 10000 or magnitude < 0.001:
        return f"{value:.3g}"
    return f"{value:.4g}"


def format_delta(delta: float | None) -> str:
    """A change of a metric, signed: `+0.06`, `-0.0987`, `±0`; None as an empty string."""
    if delta is None:
        return ""
    if delta == 0:
        return "±0"
    sign = "+" if delta > 0 else "-"
    size = abs(delta)
    if size >= 10:
        return sign + format_metric(size)
    # At most four decimals: a delta is read at a glance, next to a value that has them.
    text = f"{size:.4f}".rstrip("0").rstrip(".")
    return sign + (text if text != "0" else "0.0000")
