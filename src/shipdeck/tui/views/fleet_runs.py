"""Every runner's snapshot for the Overview and Runs when several runners are configured:
row keys that say which runner a row belongs to, and one summary line per runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text

from shipdeck.formatting import format_age
from shipdeck.model import RunStatus
from shipdeck.tui.fleet import Part
from shipdeck.tui.format import clip
from shipdeck.tui.palette import Palette
from shipdeck.tui.view_data.snapshot import Snapshot
from shipdeck.tui.widgets.header import STATE_COLOUR, STATE_GLYPH


@dataclass(frozen=True)
class Source:
    """One runner's snapshot as a view paints it."""

    index: int
    name: str
    snapshot: Snapshot


@dataclass(frozen=True)
class FleetRuns:
    """Runner names, which one is active, and what each runner answered so far."""

    names: list[str]
    active: int
    parts: dict[int, Part[Snapshot]] = field(default_factory=dict)

    @property
    def many(self) -> bool:
        return len(self.names) > 1

    def sources(self) -> list[Source]:
        """The runners that answered, in runner order."""
        return [
            Source(index, self.names[index], part.data)
            for index, part in sorted(self.parts.items())
            if part.data is not None
        ]

    def snapshot(self, index: int) -> Snapshot | None:
        part = self.parts.get(index)
        return part.data if part is not None else None


def fleet_key(index: int, run_id: str) -> str:
    return f"{index}:{run_id}"


def parse_fleet_key(key: str) -> tuple[int, str] | None:
    """`2:14` -> (runner 2, run "14"); a plain run id (the active runner's) -> None."""
    index, colon, run_id = key.partition(":")
    if not colon or not (index.isascii() and index.isdigit()) or not run_id:
        return None
    return int(index), run_id


def pipeline_key(index: int, pipeline: str) -> str:
    return f"{index}/{pipeline}"


def parse_pipeline_key(key: str) -> tuple[int, str] | None:
    """`1/build` -> (runner 1, build); a plain pipeline name (the active runner's) -> None."""
    index, slash, name = key.partition("/")
    if not slash or not index.isdigit() or not name:
        return None
    return int(index), name


def runner_summary(
    name: str,
    state: str,
    snapshot: Snapshot | None,
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
    if snapshot is None:
        line.append("loading…", style=palette.muted)
        return line
    runs = snapshot.runs
    running = len(snapshot.active)
    failed = sum(1 for r in runs[:20] if r.status in (RunStatus.FAILED, RunStatus.INTERRUPTED))
    line.append(
        f"{running} running  ", style=palette.status("running") if running else palette.muted
    )
    line.append(
        f"{failed} failed of last 20  ", style=palette.status("failed") if failed else palette.muted
    )
    if runs:
        last = runs[0]
        line.append(palette.badge(last.status, f"{last.label} {last.pipeline}"))
        line.append(f" {format_age(last.created_at, now)}", style=palette.muted)
    return line
