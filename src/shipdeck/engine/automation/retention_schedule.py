"""The runner applying the workspace's `[retention]` by itself, every `every` (1 h by default).

When the last pass was is kept in the run history, so a runner that idles out and is started
again does not start from zero (nor pass again at each start): the first pass comes once the
last one is `every` old, a few seconds after start at the earliest.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from shipdeck.engine.automation.retention import collect_garbage, last_collected
from shipdeck.model import RetentionSpec

START_DELAY = 5.0
"""Seconds after start before a first pass: the clients that started the runner come first."""
RECHECK = 60.0
"""How often the setting is looked at again (the workspace file may have changed)."""

_log = logging.getLogger(__name__)


class RetentionSchedule:
    def __init__(self, state_dir: Path, limits: Callable[[], RetentionSpec | None]) -> None:
        self.state_dir = state_dir
        self._limits = limits
        """The workspace's current `[retention]`, None when it has none."""
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        limits = self._limits()
        await asyncio.sleep(min(START_DELAY, limits.every if limits else START_DELAY))
        while True:
            limits = self._limits()
            if limits is None:
                await asyncio.sleep(RECHECK)
                continue
            try:
                last = await asyncio.to_thread(last_collected, self.state_dir)
                wait = (last or 0.0) + limits.every - time.time()
                if wait <= 0:
                    report = await asyncio.to_thread(collect_garbage, self.state_dir, limits)
                    if report.deleted_runs or report.log_bytes or report.artifacts:
                        _log.info("retention: %s", "; ".join(report.summary()))
                    wait = limits.every
            except (OSError, sqlite3.Error, RuntimeError) as error:
                # A busy or damaged history: say so, and try again at the next pass.
                _log.warning("retention: could not delete old runs: %s", error)
                wait = limits.every
            await asyncio.sleep(min(wait, RECHECK))
