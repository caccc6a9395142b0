"""Many runners at once: load each runner on its own so an offline one never blocks the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shipdeck.runners.protocol import DeployRunner, Runner

T = TypeVar("T")

RUNNER_TIMEOUT = 8.0
"""Seconds one runner may take to answer a view's load before it is shown as unreachable."""


@dataclass(frozen=True)
class Part(Generic[T]):
    """What one runner answered for a view: its data, or the one-line reason it could not."""

    index: int
    name: str
    data: T | None = None
    error: str = ""


def deploy_runner(runner: Runner) -> DeployRunner | None:
    """The runner's models-and-deployments half, when it offers one."""
    return runner if isinstance(runner, DeployRunner) else None


def describe(error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, TimeoutError):
        return f"no answer within {RUNNER_TIMEOUT:g}s"
    return text or type(error).__name__


async def load_part(index: int, runner: Runner, load: Callable[[Runner], Awaitable[T]]) -> Part[T]:
    """One runner's answer, never raising: a failure becomes the part's error line."""
    try:
        async with asyncio.timeout(RUNNER_TIMEOUT):
            data = await load(runner)
    except asyncio.CancelledError:
        raise
    except Exception as error:
        return Part(index, runner.name, error=describe(error))
    return Part(index, runner.name, data=data)


def runner_read_only(app: object, index: int) -> bool:
    """Read-only for one runner: the app's flag, the user config, or the runner itself."""
    runners: list[Runner] = getattr(app, "runners", [])
    if getattr(app, "_read_only", False):
        return True
    if not 0 <= index < len(runners):
        return True
    runner = runners[index]
    config = getattr(app, "config", None)
    if runner.name in getattr(config, "read_only_runners", set()):
        return True
    return bool(getattr(runner, "read_only", False))
