"""When a timed trigger fires: the slots of a cron `schedule` (in its time zone) or of an
`every` interval (multiples of it since 1970-01-01 00:00 UTC), as epoch seconds.

Cron expressions are evaluated by cronsim, which follows Debian cron across daylight-saving
changes: a job at a fixed time that falls in the skipped hour runs when the clocks have
jumped (02:30 -> 03:00), one in the repeated hour runs once; jobs with a wildcard minute or
hour follow real time.
"""

from __future__ import annotations

import math
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from cronsim import CronSim

from shipdeck.model import PipelineTriggers
from shipdeck.workspace.durations import format_duration
from shipdeck.workspace.triggers import cron_expression

MAX_COUNTED = 10_000
"""Missed slots counted one by one after downtime; past this, "more than 10,000"."""


@dataclass(frozen=True)
class Slots:
    """The slots in (after, until]: the newest `kept` of them, oldest first, and how many."""

    kept: list[float]
    total: int
    """All slots in the range (at least MAX_COUNTED when `counted_all` is False)."""
    counted_all: bool = True


class TimeRule:
    """A cron expression in a time zone, or an interval."""

    def __init__(self, triggers: PipelineTriggers) -> None:
        self.every = triggers.every
        self.cron = None if triggers.schedule is None else cron_expression(triggers.schedule)
        if self.every is None and self.cron is None:
            raise ValueError("no schedule and no interval")
        self.zone: tzinfo = UTC
        if self.cron is not None and triggers.timezone != "UTC":
            self.zone = zoneinfo.ZoneInfo(triggers.timezone)
        self.text = (
            f"every {format_duration(self.every)}"
            if self.every is not None
            else f"{triggers.schedule} ({triggers.timezone})"
        )

    def explain(self) -> str:
        if self.cron is None:
            return ""
        words = CronSim(self.cron, datetime.now(UTC)).explain()
        return f"{words} ({self.zone})" if self.zone is not UTC else f"{words} (UTC)"

    def next_after(self, moment: float) -> float:
        """The first slot strictly after `moment`."""
        if self.every is not None:
            return (math.floor(moment / self.every) + 1) * self.every
        assert self.cron is not None
        start = datetime.fromtimestamp(moment, self.zone)
        return next(CronSim(self.cron, start)).timestamp()

    def latest_until(self, moment: float) -> float | None:
        """The last slot at or before `moment` (None when there is none within 50 years)."""
        if self.every is not None:
            return math.floor(moment / self.every) * self.every
        assert self.cron is not None
        # Reverse iteration ticks one second back first: start one second later.
        start = datetime.fromtimestamp(math.floor(moment) + 1, self.zone)
        try:
            return next(CronSim(self.cron, start, reverse=True)).timestamp()
        except StopIteration:
            return None

    def slots(self, after: float, until: float, keep: int) -> Slots:
        """The slots in (after, until]: the newest `keep` (oldest first) and the count."""
        if until <= after:
            return Slots([], 0)
        if self.every is not None:
            first = math.floor(after / self.every) + 1
            last = math.floor(until / self.every)
            total = max(0, last - first + 1)
            start = max(first, last - keep + 1)
            return Slots([n * self.every for n in range(start, last + 1)], total)
        found: list[float] = []
        moment = after
        while len(found) < MAX_COUNTED:
            moment = self.next_after(moment)
            if moment > until:
                return Slots(found[-keep:] if keep else [], len(found))
            found.append(moment)
        # Very long downtime of a frequent schedule: count no further, keep the newest.
        latest = self.latest_until(until)
        kept = [latest] if keep and latest is not None and latest > found[-1] else []
        return Slots(kept, MAX_COUNTED, counted_all=False)
