"""What action dialogs say about their plans. A promote or roll back: from -> to, the run that
built the revision, the params and metrics that differ, and each gate's verdict. A rerun: the
tasks it runs (and why, for those a rerun from a task adds), and those it keeps. No textual
imports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

from shipdeck.formatting import format_metric
from shipdeck.model import (
    ActionPlan,
    Comparison,
    PipelineSpec,
    RunDetail,
    ServiceSpec,
    TaskRun,
    TaskStatus,
)
from shipdeck.model.ids import run_label
from shipdeck.tui.deploy_format import LOUD, delta_text, gated_first, verdict_style
from shipdeck.tui.format import clip, format_param
from shipdeck.tui.palette import Palette

DIFF_ROWS = 8


def revision_run(revision: str | None) -> str | None:
    """`r12` -> "12": the id of the run that built a pipeline service's revision."""
    if revision and revision.startswith("r") and revision[1:].isascii() and revision[1:].isdigit():
        return str(int(revision[1:]))
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
    return [before, after]


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
        text.append(f"built by run {run.label} {run.pipeline} {run.status.value}", style="")
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


@dataclass(frozen=True)
class RerunPreview:
    items: list[str]
    """The tasks to run, in order; those a rerun from a task adds say how they ended before."""
    footnote: str
    """Why those were added, and the tasks kept from the earlier run (with how they ended,
    when not in success)."""


def describe_rerun(
    run_id: str,
    plan: list[str],
    spec: PipelineSpec | None,
    previous: Sequence[TaskRun],
    from_task: str | None = None,
) -> RerunPreview:
    """The preview of rerunning run `run_id` as `plan` (the runner's rerun_plan), `spec` the
    pipeline as declared now (the engine keeps exactly its tasks outside the plan: a task
    renamed or removed since is neither run nor kept)."""
    before = {task.name: task for task in previous}
    asked = set(plan)
    needed: set[str] = set()
    if from_task is not None and spec is not None and from_task in spec.tasks:
        asked = spec.downstream({from_task})
        needed = spec.upstream(from_task)
    items: list[str] = []
    brought: list[str] = []
    for name in plan:
        earlier = before.get(name)
        if name in asked:
            items.append(name)
        elif earlier is None:
            items.append(f"{name} (new since {run_label(run_id)})")
        elif name in needed and earlier.status != TaskStatus.SUCCEEDED:
            items.append(f"{name} ({earlier.status.value} in {run_label(run_id)})")
            brought.append(name)
        else:
            items.append(name)
    lines: list[str] = []
    if brought:
        again = "it runs" if len(brought) == 1 else "they run"
        lines.append(
            f"{from_task} needs {', '.join(brought)}, which did not succeed in {run_label(run_id)}:"
            f" {again} again first"
        )
    kept = [
        _kept(name, before.get(name)) for name in (spec.tasks if spec else ()) if name not in plan
    ]
    if kept:
        lines.append(f"Kept from {run_label(run_id)}: {', '.join(kept)}")
    return RerunPreview(items, "\n".join(lines))


def _kept(name: str, earlier: TaskRun | None) -> str:
    if earlier is None or earlier.status == TaskStatus.SUCCEEDED:
        return name
    return f"{name} ({earlier.status.value})"
