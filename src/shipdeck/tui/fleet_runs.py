"""The runs of every runner other than the active one, for the Runs view and the Overview's
runners line when several runners are configured (each loaded on its own, never blocking)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text

from shipdeck.model import Run, RunStatus
from shipdeck.runners.protocol import Runner
from shipdeck.tui.fleet import Part, load_part
from shipdeck.tui.format import clip, format_age
from shipdeck.tui.palette import Palette
from shipdeck.tui.widgets.header import STATE_COLOUR, STATE_GLYPH

FLEET_RUNS = 200


@dataclass(frozen=True)
class FleetRuns:
    """Runner names, which one is active, and what each other runner answered."""

    names: list[str]
    active: int
    parts: dict[int, Part[list[Run]]] = field(default_factory=dict)

    @property
    def many(self) -> bool:
        return len(self.names) > 1

    def others(self) -> list[tuple[int, Run]]:
        return [
            (index, run)
            for index, part in sorted(self.parts.items())
            if index != self.active
            for run in part.data or []
        ]


async def load_fleet_runs(runners: Sequence[Runner], active: int) -> dict[int, Part[list[Run]]]:
    async def runs(runner: Runner) -> list[Run]:
        return await runner.runs(limit=FLEET_RUNS)

    parts = await asyncio.gather(
        *(load_part(i, r, runs) for i, r in enumerate(runners) if i != active)
    )
    return {part.index: part for part in parts}


def fleet_key(index: int, run_id: int) -> str:
    return f"{index}:{run_id}"


def parse_fleet_key(key: str) -> tuple[int, int] | None:
    """`2:14` -> (runner 2, run 14); a plain run id (the active runner's) -> None."""
    index, colon, run_id = key.partition(":")
    if not colon or not index.isdigit() or not run_id.isdigit():
        return None
    return int(index), int(run_id)


def runner_summary(
    name: str,
    state: str,
    runs: list[Run] | None,
    error: str,
    palette: Palette,
    now: datetime,
) -> Text:
    """One runner on one line: state, runs in progress, recent failures, the last run."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    state = "offline" if error else state
    line.append(f" {clip(name, 16):<16} ")
    line.append(
        f"{STATE_GLYPH.get(state, '?')} {state:<12}",
        style=palette.colour(STATE_COLOUR.get(state, "foreground")),
    )
    if error:
        line.append(clip(error, 44), style=palette.muted)
        return line
    if runs is None:
        line.append("loading…", style=palette.muted)
        return line
    running = sum(1 for r in runs if not r.status.finished)
    failed = sum(1 for r in runs[:20] if r.status in (RunStatus.FAILED, RunStatus.INTERRUPTED))
    line.append(
        f"{running} running  ", style=palette.status("running") if running else palette.muted
    )
    line.append(
        f"{failed} failed of last 20  ", style=palette.status("failed") if failed else palette.muted
    )
    if runs:
        last = runs[0]
        line.append(palette.badge(last.status, f"#{last.id} {last.pipeline}"))
        line.append(f" {format_age(last.created_at, now)}", style=palette.muted)
    return line
