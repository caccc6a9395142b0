"""Which rows a comparison and a promote diff show first."""

from __future__ import annotations

from shipdeck.model import CompareCell, CompareRow, MetricDirection
from shipdeck.tui.deploy_format import gated_first, reading_order


def row(kind: str, key: str, direction: MetricDirection | None = None) -> CompareRow:
    cells = [CompareCell(value=1.0), CompareCell(value=2.0, delta=1.0)]
    return CompareRow(kind=kind, key=key, direction=direction, cells=cells, differs=True)


ROWS = [
    row("param", "lr"),
    row("metric", "rows_train"),
    row("metric", "loss", MetricDirection.MIN),
    row("param", "seed"),
    row("metric", "auc", MetricDirection.MAX),
]


def test_metrics_that_decide_then_params_then_counts() -> None:
    assert [r.key for r in reading_order(ROWS)] == ["loss", "auc", "lr", "seed", "rows_train"]


def test_a_promote_diff_puts_what_the_gates_check_first() -> None:
    gates = ["metric:rows_train >= 100", "pipeline:ci succeeded", "metric:auc >= 0.8"]
    assert [r.key for r in gated_first(ROWS, gates)] == [
        "auc",
        "rows_train",
        "loss",
        "lr",
        "seed",
    ]
