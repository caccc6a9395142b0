"""The pure parts: number formatting, better/worse, key metric choice, timeline items and
filters, per-task curves, theme colours for series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shipdeck.formatting import format_delta, format_metric
from shipdeck.model import (
    AutoCause,
    AutoKind,
    DeployAction,
    GateSpec,
    HistoryEntry,
    Metric,
    MetricDirection,
    ModelVersion,
    Outcome,
    Run,
    RunDetail,
    RunStatus,
    ServiceSpec,
)
from shipdeck.model.deploy import GateKind
from shipdeck.tui.deploy_format import is_better
from shipdeck.tui.screens.compare import curves_for, stepped_keys
from shipdeck.tui.view_data.models import ModelFamily, pick_key_metrics
from shipdeck.tui.view_data.timeline import ItemKind, action_item, in_window, matches, run_items
from shipdeck.tui.widgets.charts import series_colours

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_metric_and_delta_text() -> None:
    assert format_metric(0.87412) == "0.8741"
    assert format_metric(12.5) == "12.5"
    assert format_metric(1204.0) == "1204"
    assert format_metric(0.0) == "0"
    assert format_metric(None) == "-"
    assert format_delta(0.06) == "+0.06"
    assert format_delta(-0.2182) == "-0.2182"
    assert format_delta(0.0) == "±0"
    assert format_delta(-0.0987412) == "-0.0987"
    assert format_delta(0.00001) == "+0.0000"
    assert format_delta(12.34) == "+12.34"


def test_better_follows_the_direction() -> None:
    assert is_better(0.1, MetricDirection.MAX) is True
    assert is_better(0.1, MetricDirection.MIN) is False
    assert is_better(-0.1, MetricDirection.MIN) is True
    assert is_better(0.0, MetricDirection.MAX) is None


def version(number: int, **metrics: float) -> ModelVersion:
    return ModelVersion(
        model="m",
        version=number,
        run_id=number,
        task="t",
        metrics=metrics,
        sha256="0",
        created_at=T0,
    )


def test_key_metrics_gate_first_then_configured_then_by_name() -> None:
    family = ModelFamily("m", [version(1, zeta=1, auc=0.9, loss=0.2, alpha=3)])
    gate = GateSpec(text="metric:auc >= 0.8", kind=GateKind.METRIC, metric="auc")
    service = ServiceSpec(
        name="s", model="m", environments=("prod",), deploy="true", gates={"prod": (gate,)}
    )
    directions = {"loss": MetricDirection.MIN}
    assert pick_key_metrics([family], [service], directions) == ["auc", "loss", "alpha", "zeta"]
    assert pick_key_metrics([family], [service], directions, limit=2) == ["auc", "loss"]


def run(run_id: int, status: RunStatus, pipeline: str = "ci") -> Run:
    return Run(
        id=run_id,
        pipeline=pipeline,
        status=status,
        created_at=T0 + timedelta(minutes=run_id),
        started_at=T0 + timedelta(minutes=run_id),
        finished_at=T0 + timedelta(minutes=run_id, seconds=30) if status.finished else None,
        tasks_total=2,
        tasks_done=2 if status.finished else 1,
        user="op@host",
    )


def test_runs_give_started_and_finished_items_and_deploy_runs_none() -> None:
    items = run_items(
        0,
        [
            run(3, RunStatus.RUNNING),
            run(2, RunStatus.FAILED),
            run(1, RunStatus.SUCCEEDED, pipeline="deploy:api"),
        ],
    )
    assert [(i.status, i.text) for i in items] == [
        ("running", "#3 ci started (cli)"),
        ("started", "#2 ci started (cli)"),
        ("failed", "#2 ci failed (2/2 tasks)"),
    ]


def test_a_failed_action_says_why_and_filters_match_every_word() -> None:
    entry = HistoryEntry(
        id=4,
        service="api",
        env="prod",
        action=DeployAction.PROMOTE,
        from_revision="r1",
        to_revision="r2",
        user="op@host",
        at=T0,
        outcome=Outcome.FAILED,
        detail="health failed: exit 1; prod keeps r1",
    )
    item = action_item(1, entry)
    assert item.kind == ItemKind.PROMOTE
    assert item.text == "promote api prod r1 → r2: failed (health failed: exit 1; prod keeps r1)"
    assert item.target is not None and (item.target.service, item.target.env) == ("api", "prod")
    assert matches(item, ["promote", "api", "far"], "far")
    assert not matches(item, ["promote", "churn"], "far")
    assert in_window(item, T0 + timedelta(minutes=59), timedelta(hours=1))
    assert not in_window(item, T0 + timedelta(hours=2), timedelta(hours=1))
    assert in_window(item, T0 + timedelta(days=30), None)


def test_an_automatic_action_says_so() -> None:
    entry = HistoryEntry(
        id=5,
        service="api",
        env="prod",
        action=DeployAction.ROLLBACK,
        from_revision="r2",
        to_revision="r1",
        user="shipdeck@host",
        at=T0,
        outcome=Outcome.SUCCEEDED,
        cause=AutoCause(
            kind=AutoKind.HEALTH, text="health failed 3 times in a row on r2", failures=3
        ),
    )
    assert action_item(1, entry).text == (
        "auto rollback api prod r2 → r1, because health failed 3 times"
    )
    assert matches(action_item(1, entry), ["auto"], "")
    alerted = entry.model_copy(
        update={"cause": AutoCause(kind=AutoKind.ALERT, text="auc 0.7 < 0.8", alert_id=7)}
    )
    assert action_item(1, alerted).text.endswith(", because alert #7")
    policy = AutoCause(kind=AutoKind.POLICY, text="auc 0.9 >= 0.8", run_id="12", version="5")
    promoted = entry.model_copy(update={"action": DeployAction.DEPLOY, "cause": policy})
    assert action_item(1, promoted).text.endswith(", because policy held for v5 (#12)")


def test_curves_per_subject_and_per_task_when_several_report_the_key() -> None:
    def metric(task: str, step: int | None, value: float) -> Metric:
        return Metric(run_id=1, task=task, key="loss", value=value, step=step, ts=T0)

    one = RunDetail(
        run=run(1, RunStatus.SUCCEEDED),
        tasks=[],
        metrics=[
            metric("a", 2, 0.5),
            metric("a", 1, 0.9),
            metric("b", 1, 0.8),
            metric("b", 2, 0.4),
        ],
    )
    two = RunDetail(run=run(2, RunStatus.SUCCEEDED), tasks=[], metrics=[metric("a", None, 0.3)])
    series = curves_for(
        "loss",
        ["#1", "#2"],
        [
            one,
            two,
        ],
    )
    assert [(s.label, list(s.steps), list(s.values)) for s in series] == [
        ("#1 a", [1, 2], [0.9, 0.5]),
        ("#1 b", [1, 2], [0.8, 0.4]),
    ]
    assert stepped_keys([one, two, None]) == ["loss"]


def test_series_colours_come_from_the_theme_and_stay_distinct() -> None:
    variables = {
        "primary": "#4f9fe6",
        "warning": "#e6b450",
        "success": "#5ccf7a",
        "error": "#f0505a",
        "accent": "#5fc7e6",
        "secondary": "#6c7a89",
    }
    colours = series_colours(variables, 10)
    assert colours[0] == (0x4F, 0x9F, 0xE6)
    assert len(set(colours)) == 10
