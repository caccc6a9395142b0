"""Evaluating promotion gates against what is known about a revision. Pure: no I/O."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shipdeck.formatting import format_duration, format_number
from shipdeck.model import EnvironmentState, GateKind, GateResult, GateSpec, Run, RunStatus

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_NEGATED = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}


def holds(value: float, op: str, bound: float) -> tuple[bool, str]:
    """Whether `value op bound` holds, and the operator that is true of the two to show:
    `op`, or its negation (`loss 0.4 > 0.3` for a gate `loss <= 0.3` that failed)."""
    passed = _COMPARE[op](value, bound)
    return passed, op if passed else _NEGATED[op]


@dataclass(frozen=True)
class RevisionFacts:
    """What the gates look at: the revision's metrics and the run that built or registered it."""

    revision: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    build_run: Run | None = None


def evaluate_gates(
    gates: Sequence[GateSpec],
    facts: RevisionFacts,
    environments: Mapping[str, EnvironmentState],
    now: datetime,
) -> list[GateResult]:
    """Each gate's verdict with a one-line reason, in the order they were declared."""
    return [_evaluate(gate, facts, environments, now) for gate in gates]


def _evaluate(
    gate: GateSpec,
    facts: RevisionFacts,
    environments: Mapping[str, EnvironmentState],
    now: datetime,
) -> GateResult:
    if gate.kind == GateKind.METRIC:
        passed, reason = _metric(gate, facts)
    elif gate.kind == GateKind.PIPELINE:
        passed, reason = _pipeline(gate, facts)
    else:
        passed, reason = _soak(gate, facts, environments, now)
    return GateResult(gate=gate.text, passed=passed, reason=reason)


def _metric(gate: GateSpec, facts: RevisionFacts) -> tuple[bool, str]:
    key, op, threshold = gate.metric or "", gate.op or ">=", gate.threshold or 0.0
    value = facts.metrics.get(key)
    if value is None:
        return False, f"{facts.revision} has no metric {key!r}"
    passed, shown = holds(value, op, threshold)
    return passed, f"{key} {format_number(value)} {shown} {format_number(threshold)}"


def _pipeline(gate: GateSpec, facts: RevisionFacts) -> tuple[bool, str]:
    run = facts.build_run
    if run is None:
        return False, f"the run that built {facts.revision} is unknown"
    if run.pipeline != gate.pipeline:
        return (
            False,
            f"{facts.revision} comes from run {run.label} of {run.pipeline}, not {gate.pipeline}",
        )
    if run.status != RunStatus.SUCCEEDED:
        return False, f"run {run.label} of {run.pipeline} {run.status.value}"
    return True, f"run {run.label} of {run.pipeline} succeeded"


def _soak(
    gate: GateSpec,
    facts: RevisionFacts,
    environments: Mapping[str, EnvironmentState],
    now: datetime,
) -> tuple[bool, str]:
    env, needed = gate.environment or "", gate.seconds or 0.0
    state = environments.get(env)
    if state is None or state.revision != facts.revision or state.since is None:
        holding = state.revision if state is not None and state.revision else "nothing"
        return False, f"{facts.revision} is not current in {env} (it holds {holding})"
    soaked = (now - state.since).total_seconds()
    held, wanted = format_duration(int(soaked)), format_duration(needed)  # whole seconds
    if soaked < needed:
        return False, f"{facts.revision} in {env} for {held}, needs {wanted}"
    return True, f"{facts.revision} in {env} for {held} (needs {wanted})"
