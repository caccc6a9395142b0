"""Idle exit: a server with nothing to do stops on its own after a while.

Nothing to do means no open client connection (an event stream counts; so does a keep-alive
connection between two requests), no request in flight, and no work the runner is executing.
Any request, even a short one, restarts the clock. Like ssh's ControlPersist: the workspace
daemon is cheap to start again, so it does not linger on every workspace ever touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Activity:
    """What the HTTP side of a server is doing right now."""

    connections: int
    """Open client connections (event streams and idle keep-alive ones included)."""
    requests: int
    """Requests being answered."""
    served: int
    """Requests received since start: a change means someone came by."""


class IdleExit:
    """Decides when a server has been idle for `seconds`; `busy` reports the runner's own work."""

    def __init__(
        self,
        seconds: float,
        busy: Callable[[], bool],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if seconds <= 0:
            raise ValueError(f"an idle timeout must be positive, got {seconds}")
        self.seconds = seconds
        self._busy = busy
        self._clock = clock
        self._since = clock()
        self._served = 0

    def quiet(self, activity: Activity) -> bool:
        """True when nothing is going on now; anything going on restarts the idle clock."""
        if (
            activity.connections
            or activity.requests
            or activity.served != self._served
            or self._busy()
        ):
            self._served = activity.served
            self._since = self._clock()
            return False
        return True

    def expired(self, activity: Activity) -> bool:
        """True once nothing has gone on for `seconds`."""
        return self.quiet(activity) and self._clock() - self._since >= self.seconds

    def describe(self) -> str:
        return f"idle for {self.seconds:g}s (no client, no run or deploy in progress)"
