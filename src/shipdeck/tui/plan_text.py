"""What a promote or roll back dialog says about its plan: from -> to, the run that built the
revision, the params and metrics that differ, and each gate's verdict. No textual imports."""

from __future__ import annotations

from rich.text import Text

from shipdeck.model import ActionPlan, Comparison, RunDetail, ServiceSpec
from shipdeck.tui.deploy_format import (
    LOUD,
    delta_text,
    format_metric,
    gated_first,
    verdict_style,
)
from shipdeck.tui.format import clip, format_param
from shipdeck.tui.palette import Palette

DIFF_ROWS = 8


def revision_run(revision: str | None) -> int | None:
    """`r12` -> 12: the run that built a pipeline service's revision."""
    if revision and revision.startswith("r") and revision[1:].isdigit():
        return int(revision[1:])
    return None


def diff_refs(spec: ServiceSpec, from_rev: str | None, to_rev: str) -> list[str] | None:
    """What to compare to show the difference between two revisions of a service."""
    if from_rev is None or from_rev == to_rev:
        return None
    if spec.model:
        return [f"{spec.model}@{from_rev}", f"{spec.model}@{to_rev}"]
    before, after = revision_run(from_rev), revision_run(to_rev)
    if before is None or after is None:
        return None
    return [str(before), str(after)]


def describe_plan(
    plan: ActionPlan, comparison: Comparison | None, built: RunDetail | None, palette: Palette
) -> Text:
    text = Text()
    source = f" (from {plan.source_env})" if plan.source_env else ""
    text.append(f"{plan.env}: ", style="bold")
    text.append(f"{plan.from_revision or '(empty)'} → {plan.to_revision}", style="bold")
    text.append(source + "\n")
    if built is not None:
        run = built.run
        params = " ".join(f"{k}={format_param(v)}" for k, v in run.params.items())
        text.append(f"built by run #{run.id} {run.pipeline} {run.status.value}", style="")
        text.append(f"  {clip(params, 40)}\n", style=palette.muted)
    if comparison is not None:
        _describe_diff(text, comparison, [gate.gate for gate in plan.gates], palette)
    if plan.gates:
        text.append("gates:\n")
    for gate in plan.gates:
        verdict = verdict_style(gate.passed, palette)
        text.append(f"  {'✓' if gate.passed else '✗'} {gate.gate}", style=verdict)
        reason = palette.muted if gate.passed else palette.colour("error")
        text.append(f"  {gate.reason}\n", style=reason)
    if not plan.gates_passed:
        text.append(
            "✗ Refused by its gates: nothing will run (shipdeck "
            f"{plan.action.value} --force overrides from the CLI)",
            style=palette.colour("error") + LOUD,
        )
    text.rstrip()
    return text


def _describe_diff(text: Text, comparison: Comparison, gates: list[str], palette: Palette) -> None:
    # What the gates check first: it is what decides whether this may go to the environment.
    changed = gated_first([row for row in comparison.rows if row.differs], gates)
    if not changed:
        text.append("no difference in params or metrics\n", style=palette.muted)
    for row in changed[:DIFF_ROWS]:
        before, after = row.cells[0], row.cells[-1]
        line = f"  {row.kind:<6} {clip(row.key, 14):<14} "
        if row.kind == "metric" and isinstance(after.value, float):
            line += f"{format_metric(_num(before.value))} → {format_metric(after.value)}"
            text.append(line)
            if after.delta is not None:
                text.append(" ")
                text.append_text(delta_text(after.delta, row.direction, palette))
            text.append("\n")
        else:
            old = "-" if before.value is None else format_param(before.value)
            new = "-" if after.value is None else format_param(after.value)
            text.append(f"{line}{clip(old, 14)} → {clip(new, 14)}\n")
    if len(changed) > DIFF_ROWS:
        text.append(f"  … {len(changed) - DIFF_ROWS} more differ\n", style=palette.muted)


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
