"""Gate parsing (workspace) and evaluation (engine): every kind, passing and failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shipdeck.engine.deploy.gates import RevisionFacts, evaluate_gates
from shipdeck.model import EnvironmentState, GateKind, Run, RunStatus
from shipdeck.workspace.gates import parse_gate

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def run(run_id: str, pipeline: str, status: RunStatus) -> Run:
    return Run(id=run_id, pipeline=pipeline, status=status, created_at=NOW)


def test_parse_each_kind() -> None:
    metric = parse_gate("metric:auc >= 0.80")
    assert (metric.kind, metric.metric, metric.op, metric.threshold) == (
        GateKind.METRIC,
        "auc",
        ">=",
        0.8,
    )
    assert parse_gate("metric:val_loss<0.3").op == "<"
    pipeline = parse_gate("pipeline:ci succeeded")
    assert (pipeline.kind, pipeline.pipeline) == (GateKind.PIPELINE, "ci")
    soak = parse_gate("soak:staging 1h30m")
    assert (soak.kind, soak.environment, soak.seconds) == (GateKind.SOAK, "staging", 5400.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metric:auc => 0.8", "expected 'metric:KEY OP NUMBER'"),
        ("metric:auc >= high", "'high' is not a number"),
        ("metric:auc >= nan", "finite"),
        ("pipeline:ci passed", "expected 'pipeline:NAME succeeded'"),
        ("soak:staging", "expected 'soak:ENV DURATION'"),
        ("soak:staging ten minutes", "bad duration"),
        ("approval:alice", "expected 'metric:KEY OP NUMBER', 'pipeline:NAME succeeded'"),
    ],
)
def test_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_gate(text)
    assert f"bad gate {text!r}" in str(caught.value)


def evaluate(text: str, facts: RevisionFacts, **states: EnvironmentState) -> tuple[bool, str]:
    (result,) = evaluate_gates([parse_gate(text)], facts, states, NOW)
    assert result.gate == text
    return result.passed, result.reason


def test_metric_gate_reasons() -> None:
    facts = RevisionFacts("v3", metrics={"auc": 0.74, "loss": 0.2})
    assert evaluate("metric:auc >= 0.80", facts) == (False, "auc 0.74 < 0.8")
    assert evaluate("metric:auc > 0.7", facts) == (True, "auc 0.74 > 0.7")
    assert evaluate("metric:loss <= 0.2", facts) == (True, "loss 0.2 <= 0.2")
    assert evaluate("metric:loss != 0.2", facts) == (False, "loss 0.2 == 0.2")
    assert evaluate("metric:f1 >= 0.5", facts) == (False, "v3 has no metric 'f1'")


def test_pipeline_gate() -> None:
    good = RevisionFacts("r12", build_run=run("12", "ci", RunStatus.SUCCEEDED))
    assert evaluate("pipeline:ci succeeded", good) == (True, "run #12 of ci succeeded")
    other = RevisionFacts("v2", build_run=run("7", "train", RunStatus.SUCCEEDED))
    passed, reason = evaluate("pipeline:ci succeeded", other)
    assert not passed and reason == "v2 comes from run #7 of train, not ci"
    failed = RevisionFacts("v2", build_run=run("8", "train", RunStatus.FAILED))
    assert evaluate("pipeline:train succeeded", failed) == (False, "run #8 of train failed")
    assert not evaluate("pipeline:ci succeeded", RevisionFacts("v1"))[0]


def test_soak_gate() -> None:
    facts = RevisionFacts("r5")
    soaked = EnvironmentState(
        service="api", env="staging", revision="r5", since=NOW - timedelta(minutes=12)
    )
    assert evaluate("soak:staging 10m", facts, staging=soaked) == (
        True,
        "r5 in staging for 12m00s (needs 10m00s)",
    )
    fresh = soaked.model_copy(update={"since": NOW - timedelta(seconds=252)})
    assert evaluate("soak:staging 10m", facts, staging=fresh) == (
        False,
        "r5 in staging for 4m12s, needs 10m00s",
    )
    other = soaked.model_copy(update={"revision": "r4"})
    assert evaluate("soak:staging 10m", facts, staging=other) == (
        False,
        "r5 is not current in staging (it holds r4)",
    )
    assert evaluate("soak:staging 10m", facts) == (
        False,
        "r5 is not current in staging (it holds nothing)",
    )
