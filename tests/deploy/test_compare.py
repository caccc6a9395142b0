"""Comparison: deltas against the first subject, best per metric by direction, differences."""

from __future__ import annotations

import pytest

from shipdeck.engine.compare import compare
from shipdeck.model import CompareSubject, MetricDirection, default_direction


def subject(label: str, params: dict[str, object], metrics: dict[str, float]) -> CompareSubject:
    return CompareSubject(label=label, run_id=1, params=params, metrics=metrics)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "direction"),
    [
        ("auc", MetricDirection.MAX),
        ("F1", MetricDirection.MAX),
        ("ndcg", MetricDirection.MAX),
        ("loss", MetricDirection.MIN),
        ("val_loss", MetricDirection.MIN),
        ("train_loss", MetricDirection.MIN),
        ("rmse", MetricDirection.MIN),
        ("latency", MetricDirection.MIN),
        ("throughput", MetricDirection.MAX),
    ],
)
def test_default_directions(key: str, direction: MetricDirection) -> None:
    assert default_direction(key) == direction


def test_deltas_best_and_differences() -> None:
    result = compare(
        [
            subject("#1", {"lr": 0.1, "epochs": 30, "name": "a"}, {"auc": 0.80, "loss": 0.50}),
            subject("#2", {"lr": 0.2, "epochs": 30, "name": "b"}, {"auc": 0.88, "loss": 0.40}),
            subject("#3", {"lr": 0.05, "epochs": 30}, {"auc": 0.70, "loss": 0.60}),
        ],
        default_direction,
    )
    rows = {(row.kind, row.key): row for row in result.rows}
    assert [row.key for row in result.rows] == ["lr", "epochs", "name", "auc", "loss"]

    auc = rows["metric", "auc"]
    assert auc.direction == MetricDirection.MAX
    assert [cell.best for cell in auc.cells] == [False, True, False]
    assert auc.cells[0].delta is None
    assert auc.cells[1].delta == pytest.approx(0.08)
    assert auc.cells[1].delta_pct == pytest.approx(10.0)
    assert auc.cells[2].delta_pct == pytest.approx(-12.5)

    loss = rows["metric", "loss"]
    assert loss.direction == MetricDirection.MIN
    assert [cell.best for cell in loss.cells] == [False, True, False]

    lr = rows["param", "lr"]
    assert lr.cells[1].delta == pytest.approx(0.1) and lr.cells[1].delta_pct == pytest.approx(100)
    assert all(not cell.best for cell in lr.cells)
    assert lr.differs
    assert not rows["param", "epochs"].differs
    name = rows["param", "name"]
    assert [cell.value for cell in name.cells] == ["a", "b", None]
    assert name.differs and name.cells[1].delta is None


def test_configured_direction_and_ties() -> None:
    def direction(key: str) -> MetricDirection:
        return MetricDirection.MIN if key == "score" else default_direction(key)

    result = compare(
        [
            subject("a", {}, {"score": 3.0, "auc": 0.9}),
            subject("b", {}, {"score": 1.0, "auc": 0.9}),
        ],
        direction,
    )
    score, auc = result.rows
    assert [c.best for c in score.cells] == [False, True]
    assert [c.best for c in auc.cells] == [False, False]
    assert not auc.differs
    assert score.cells[1].delta_pct == pytest.approx(-66.666, rel=1e-3)


def test_zero_base_has_no_percentage() -> None:
    result = compare(
        [subject("a", {}, {"errors": 0.0}), subject("b", {}, {"errors": 2.0})], default_direction
    )
    cell = result.rows[0].cells[1]
    assert cell.delta == 2.0 and cell.delta_pct is None


def test_booleans_are_not_numbers() -> None:
    result = compare(
        [subject("a", {"flag": True}, {}), subject("b", {"flag": 1}, {})], default_direction
    )
    row = result.rows[0]
    assert row.differs and row.cells[1].delta is None
