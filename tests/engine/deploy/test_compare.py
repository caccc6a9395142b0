"""Comparison: deltas against the first subject, best per metric by direction, differences."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipdeck.model import (
    CompareSubject,
    MetricDirection,
    WorkspaceSpec,
    default_direction,
    known_direction,
)
from shipdeck.model.compare import compare


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


@pytest.mark.parametrize(
    ("key", "direction"),
    [
        ("val_auc", MetricDirection.MAX),
        ("test_acc", MetricDirection.MAX),
        ("p99_latency", MetricDirection.MIN),
        ("build_duration", MetricDirection.MIN),
        ("loss", MetricDirection.MIN),
        ("rows_train", None),
        ("tests", None),
        ("throughput", MetricDirection.MAX),
        ("train_a.loss", None),  # the task prefix is compare's business, not the table's
    ],
)
def test_known_directions(key: str, direction: MetricDirection | None) -> None:
    assert known_direction(key) == direction


def workspace_directions(configured: dict[str, MetricDirection]) -> WorkspaceSpec:
    return WorkspaceSpec(root=Path("/ws"), file=Path("/ws/shipdeck.toml"), metrics=configured)


def test_a_metric_several_tasks_report_keeps_its_direction() -> None:
    # Two shards each report loss, so a run's metrics are keyed TASK.KEY; rows_train is a count.
    result = compare(
        [
            subject("#1", {}, {"train_a.loss": 0.30, "train_b.loss": 0.50, "rows_train": 100}),
            subject("#2", {}, {"train_a.loss": 0.20, "train_b.loss": 0.60, "rows_train": 200}),
        ],
        workspace_directions({}).direction,
    )
    rows = {row.key: row for row in result.rows}
    assert rows["train_a.loss"].direction == MetricDirection.MIN
    assert [c.best for c in rows["train_a.loss"].cells] == [False, True]
    assert [c.best for c in rows["train_b.loss"].cells] == [True, False]
    assert rows["rows_train"].direction is None
    assert [c.best for c in rows["rows_train"].cells] == [False, False]
    assert rows["rows_train"].cells[1].delta == 100  # the difference is still shown


def test_configured_directions_apply_whatever_the_task_prefix() -> None:
    subjects = [
        subject("#1", {}, {"a.score": 1.0, "b.score": 1.0, "a.rows": 5.0, "b.rows": 5.0}),
        subject("#2", {}, {"a.score": 2.0, "b.score": 2.0, "a.rows": 9.0, "b.rows": 9.0}),
    ]
    directions = workspace_directions(
        {"score": MetricDirection.MIN, "b.score": MetricDirection.MAX, "rows": MetricDirection.MAX}
    )
    rows = {row.key: row for row in compare(subjects, directions.direction).rows}
    assert [c.best for c in rows["a.score"].cells] == [True, False]  # score: min
    assert [c.best for c in rows["b.score"].cells] == [False, True]  # b.score itself: max
    assert [c.best for c in rows["a.rows"].cells] == [False, True]
