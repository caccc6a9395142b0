"""Cleaning up after an engine process that died (kill -9, power loss) while it owned runs."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def kill_orphaned_group(group: int, markers: list[bytes]) -> bool:
    """SIGKILL a dead engine's task process group, if it still runs.

    Pids get reused, so a process counts as ours only if its environment carries all the
    `markers` (SHIPDECK_RUN_ID=..., SHIPDECK_TASK=..., SHIPDECK_WORKSPACE=...).
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_bytes()
            if int(stat[stat.rindex(b")") + 2 :].split()[2]) != group:
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            if all(marker in environ for marker in markers):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(group, signal.SIGKILL)
                return True
    return False
