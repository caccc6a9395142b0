"""Background asyncio tasks: stopping one the same way everywhere."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and wait until it has finished unwinding (its `finally` blocks ran), so
    whatever it holds is released before the caller goes on. None and a finished task are
    fine. A task that ends with an error other than cancellation raises it here."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
