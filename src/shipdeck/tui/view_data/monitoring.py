"""What the Monitoring view shows of one runner: its monitors, alerts and schedules."""

from __future__ import annotations

from dataclasses import dataclass, field

from shipdeck.model import Alert, MonitorInfo, ScheduleInfo
from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner

SPARK = "▁▂▃▄▅▆▇█"
ALERTS_SHOWN = 50


@dataclass(frozen=True)
class MonitoringData:
    offered: bool
    """Whether the runner has monitors at all (the embedded engine's runners do)."""
    monitors: list[MonitorInfo] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    schedules: list[ScheduleInfo] = field(default_factory=list)

    @property
    def open_alerts(self) -> list[Alert]:
        return [alert for alert in self.alerts if alert.closed_at is None]


async def load_monitoring(runner: Runner) -> MonitoringData:
    can = (await runner.capabilities()).can
    if Capability.MONITORS not in can:
        return MonitoringData(offered=False)
    monitors = await runner.monitors()
    alerts = await runner.alerts(limit=ALERTS_SHOWN)
    schedules = (await runner.schedules()).schedules if Capability.SCHEDULES in can else []
    return MonitoringData(True, monitors, alerts, schedules)


def sparkline(values: list[float], width: int = 12) -> str:
    """The last `width` values as bars scaled between their minimum and maximum."""
    shown = values[-width:]
    if not shown:
        return ""
    low, high = min(shown), max(shown)
    if high == low:
        return SPARK[len(SPARK) // 2] * len(shown)
    steps = len(SPARK) - 1
    return "".join(SPARK[round((value - low) / (high - low) * steps)] for value in shown)
