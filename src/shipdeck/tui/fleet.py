"""Many runners at once: load each runner on its own so an offline one never blocks the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shipdeck.model.capabilities import Capability
from shipdeck.runners.protocol import Runner

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


async def offers(runner: Runner, what: Capability) -> bool:
    """Whether the runner has `what` at all (read-only or not): what its views show."""
    return what in (await runner.capabilities()).can


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
