"""Text helpers for models and deployments: metric values, deltas, revisions, health."""

from __future__ import annotations

import re

from shipdeck.model import CompareRow, MetricDirection, Outcome

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


def format_metric(value: float | None) -> str:
    """Four significant figures, never scientific for everyday magnitudes: 0.8741, 12.5, 1204."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 10000 or magnitude < 0.001:
        return f"{value:.3g}"
    text = f"{value:.4g}"
    return text


def format_delta(delta: float | None) -> str:
    if delta is None:
        return ""
    if delta == 0:
        return "±0"
    sign = "+" if delta > 0 else "-"
    size = abs(delta)
    if size >= 10:
        return sign + format_metric(size)
    # At most four decimals: a delta is read at a glance, next to a value that has them.
    text = f"{size:.4f}".rstrip("0").rstrip(".")
    return sign + (text if text != "0" else "0.0000")


def is_better(delta: float, direction: MetricDirection | None) -> bool | None:
    """True when a change of `delta` is an improvement; None when it is no change."""
    if delta == 0:
        return None
    if direction == MetricDirection.MIN:
        return delta < 0
    return delta > 0


def revision_label(revision: str | None) -> str:
    return revision or "—"


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
