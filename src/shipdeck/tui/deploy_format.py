"""Text helpers for models and deployments: metric values, deltas, revisions, health."""

from __future__ import annotations

import re
from datetime import datetime

from rich.style import Style
from rich.text import Text

from shipdeck.formatting import format_age, format_delta, format_metric
from shipdeck.model import CompareRow, LivePerformance, MetricDirection, Outcome
from shipdeck.tui.palette import Palette

HEALTH_GLYPH = {"passed": "✓", "failed": "✗", None: "?"}
HEALTH_WORD = {"passed": "ok", "failed": "failing", None: "unknown"}
HEALTH_COLOUR = {"passed": "success", "failed": "error", None: "foreground-muted"}

OUTCOME_COLOUR: dict[str, str] = {
    Outcome.RUNNING: "accent",
    Outcome.SUCCEEDED: "success",
    Outcome.FAILED: "error",
    Outcome.REFUSED: "warning",
    Outcome.CONFLICT: "warning",
    Outcome.INTERRUPTED: "warning",
}
OUTCOME_GLYPH: dict[str, str] = {
    Outcome.RUNNING: "●",
    Outcome.SUCCEEDED: "✓",
    Outcome.FAILED: "✗",
    Outcome.REFUSED: "⊘",
    Outcome.CONFLICT: "≠",
    Outcome.INTERRUPTED: "!",
}


BETTER_GLYPH = "▲"
WORSE_GLYPH = "▼"
LOUD = Style(bold=True)
"""What sets a failure apart when colour is gone (NO_COLOR, a monochrome terminal): a red that
turns into a darker grey than green must not make the failure the quiet one."""


def outcome_style(outcome: Outcome, palette: Palette) -> Style:
    """An action's outcome: its colour, and bold for anything but success or in flight."""
    style = palette.colour(OUTCOME_COLOUR.get(outcome, "foreground"))
    return style if outcome in (Outcome.SUCCEEDED, Outcome.RUNNING) else style + LOUD


def health_style(health: str | None, palette: Palette) -> Style:
    style = palette.colour(HEALTH_COLOUR[health])
    return style + LOUD if health == "failed" else style


def verdict_style(passed: bool, palette: Palette) -> Style:
    """A gate's ✓/✗."""
    return palette.colour("success") if passed else palette.colour("error") + LOUD


def delta_text(delta: float | None, direction: MetricDirection | None, palette: Palette) -> Text:
    """`▲+0.06` (better) or `▼-0.02` (worse, bold) by the metric's direction, `±0` muted: the
    glyph tells better from worse where colour cannot."""
    if delta is None:
        return Text()
    better = is_better(delta, direction)
    if better is None:
        return Text(format_delta(delta), style=palette.muted)
    if better:
        return Text(BETTER_GLYPH + format_delta(delta), style=palette.colour("success"))
    return Text(WORSE_GLYPH + format_delta(delta), style=palette.colour("error") + LOUD)


def live_text(live: LivePerformance, palette: Palette, now: datetime) -> Text:
    """`live accuracy 0.81 vs trained 0.88 ▼-0.07 · monitor feedback 5m ago`: each value a
    monitor reported against the version's training metric of that name (the glyph says
    better or worse, for NO_COLOR too)."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append("live", style="bold")
    for metric in live.metrics[:2]:
        text.append(f" {metric.key} {format_metric(metric.live)}")
        if metric.trained is None:
            continue
        text.append(f" vs trained {format_metric(metric.trained)} ", style=palette.muted)
        direction = MetricDirection(metric.direction) if metric.direction else None
        text.append_text(delta_text(metric.delta, direction, palette))
    checked = format_age(live.checked_at, now)
    text.append(f" · monitor {live.monitor} {checked}", style=palette.muted)
    if live.before_deploy:
        text.append(f", before {live.version_label} was deployed", style=palette.muted)
    return text


def live_mark(live: LivePerformance, palette: Palette) -> Text:
    """A cell's short word for it: `▼live` when the first compared value is worse than in
    training, `▲live` when better, `live` otherwise."""
    compared = next((m for m in live.metrics if m.trained is not None), None)
    better = None if compared is None or live.before_deploy else compared.better
    if better is None:
        return Text("live", style=palette.muted)
    if better:
        return Text(BETTER_GLYPH + "live", style=palette.colour("success"))
    return Text(WORSE_GLYPH + "live", style=palette.colour("error") + LOUD)


def is_better(delta: float, direction: MetricDirection | None) -> bool | None:
    """True when a change of `delta` is an improvement; None when it is no change, or when the
    metric has no better direction (a count like rows_train is neither better nor worse)."""
    if delta == 0 or direction is None:
        return None
    if direction == MetricDirection.MIN:
        return delta < 0
    return delta > 0


def reading_order(rows: list[CompareRow]) -> list[CompareRow]:
    """Metrics that have a better direction (auc, val_loss: what decides) first, then the
    params, then the other metrics (counts like rows_train); each group in its own order."""

    def rank(row: CompareRow) -> int:
        if row.kind != "metric":
            return 1
        return 0 if row.direction is not None else 2

    return sorted(rows, key=rank)


GATE_METRIC = re.compile(r"metric:\s*([A-Za-z0-9_.:/-]+)")


def gated_first(rows: list[CompareRow], gates: list[str]) -> list[CompareRow]:
    """`reading_order`, with the metrics that the given gates check ahead of everything."""
    gated = {m.group(1) for gate in gates if (m := GATE_METRIC.match(gate))}
    ordered = reading_order(rows)
    return sorted(ordered, key=lambda row: not (row.kind == "metric" and row.key in gated))
