"""Metrics from `::metric` lines and from $SHIPDECK_METRICS JSON lines."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from shipdeck.engine.runs.metrics import BadMetric, parse_metric_json, parse_metric_line
from shipdeck.model import EventKind, TaskStatus
from tests.engine.conftest import Engines, log_texts, task, workspace


async def test_metrics_both_ways_with_steps(tmp_path: Path, engines: Engines) -> None:
    command = "\n".join(
        [
            "echo '::metric auc=0.81 step=1'",
            "echo '::metric auc=0.86 step=2'",
            "echo '::metric accuracy=0.5'",
            """echo '{"key": "loss", "value": 0.7, "step": 1}' >> "$SHIPDECK_METRICS" """,
            """echo '{"loss": 0.4, "f1": 0.6, "step": 2}' >> "$SHIPDECK_METRICS" """,
        ]
    )
    engine = engines.open(workspace(tmp_path, task("train", command)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    detail = engine.run_detail(run.id)
    got = sorted((m.key, m.value, m.step) for m in detail.metrics)
    assert got == [
        ("accuracy", 0.5, None),
        ("auc", 0.81, 1),
        ("auc", 0.86, 2),
        ("f1", 0.6, 2),
        ("loss", 0.4, 2),
        ("loss", 0.7, 1),
    ]
    assert all(m.task == "train" and m.run_id == run.id for m in detail.metrics)
    assert detail.final_metrics() == {"auc": 0.86, "accuracy": 0.5, "loss": 0.4, "f1": 0.6}
    # The ::metric lines stay in the log.
    assert log_texts(engine, run.id, "train")[0] == "::metric auc=0.81 step=1"


async def test_malformed_metrics_become_notes(tmp_path: Path, engines: Engines) -> None:
    command = "\n".join(
        [
            "echo '::metric nonsense'",
            "echo '::metric auc=high'",
            """echo 'not json' >> "$SHIPDECK_METRICS" """,
            """echo '{"auc": "high"}' >> "$SHIPDECK_METRICS" """,
            """echo '{"auc": 0.9}' >> "$SHIPDECK_METRICS" """,
        ]
    )
    engine = engines.open(workspace(tmp_path, task("a", command)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    detail = engine.run_detail(run.id)
    assert detail.tasks[0].status == TaskStatus.SUCCEEDED
    assert [(m.key, m.value) for m in detail.metrics] == [("auc", 0.9)]
    notes = [line.text for line in engine.read_log(run.id, "a").lines if line.stream == "sys"]
    assert len(notes) == 4
    assert notes[0].startswith("ignored malformed metric line")
    assert notes[1].startswith("ignored metric with a non-numeric value")
    assert notes[2].startswith("$SHIPDECK_METRICS line 1: ignored metrics line that is not JSON")
    assert notes[3].startswith("$SHIPDECK_METRICS line 2: ignored metrics line with a non-numeric")


async def test_metrics_file_is_read_while_the_task_runs(tmp_path: Path, engines: Engines) -> None:
    command = """echo '{"auc": 0.7, "step": 1}' >> "$SHIPDECK_METRICS"; sleep 1"""
    engine = engines.open(workspace(tmp_path, task("a", command)))
    after = engine.last_seq()
    run = engine.start_run("p", {})
    deadline = asyncio.get_running_loop().time() + 5
    metric_event = None
    while metric_event is None:
        page = await engine.wait_events(after, wait=deadline - asyncio.get_running_loop().time())
        assert page.events, "no metric event before the deadline"
        after = page.last_seq
        metric_event = next((e for e in page.events if e.kind == EventKind.METRIC), None)
    assert metric_event.data.key == "auc" and metric_event.data.value == 0.7
    assert engine.run_detail(run.id).tasks[0].status == TaskStatus.RUNNING
    await engine.wait_run(run.id)


async def test_unterminated_last_metrics_line_is_read_at_exit(
    tmp_path: Path, engines: Engines
) -> None:
    command = """printf '{"auc": 0.75}' >> "$SHIPDECK_METRICS" """
    engine = engines.open(workspace(tmp_path, task("a", command)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert [(m.key, m.value) for m in engine.run_detail(run.id).metrics] == [("auc", 0.75)]


def test_metric_line_parsing() -> None:
    assert parse_metric_line("::metric val/loss=1e-3 step=7").value == 0.001
    assert parse_metric_line("::metric val/loss=1e-3 step=7").step == 7
    for bad in ("::metric", "::metric a=1 step=x", "::metric a=nan", "::metric =1"):
        with pytest.raises(BadMetric):
            parse_metric_line(bad)


def test_metric_json_parsing() -> None:
    [single] = parse_metric_json('{"key": "auc", "value": 1, "step": 3}')
    assert (single.key, single.value, single.step) == ("auc", 1.0, 3)
    assert [m.key for m in parse_metric_json('{"a": 1, "b": 2.5}')] == ["a", "b"]
    for bad in ("[1]", '{"a": true}', '{"a": 1, "step": 1.5}', "{}", '{"key": "a"}'):
        with pytest.raises(BadMetric):
            parse_metric_json(bad)


async def test_metrics_are_written_in_batches(tmp_path: Path, engines: Engines) -> None:
    command = "seq 1 3000 | sed 's/.*/::metric loss=& step=&/'"
    engine = engines.open(workspace(tmp_path, task("a", command)))
    store_write = engine.store.write
    transactions = 0

    def counting_write(*args: object, **kwargs: object) -> None:
        nonlocal transactions
        transactions += 1
        store_write(*args, **kwargs)  # type: ignore[arg-type]

    engine.store.write = counting_write  # type: ignore[method-assign]
    run = await engine.wait_run(engine.start_run("p", {}).id)
    detail = engine.run_detail(run.id)
    assert len(detail.metrics) == 3000
    assert [m.step for m in detail.metrics] == list(range(1, 3001))
    assert transactions <= 20, f"{transactions} transactions for 3000 metrics"


async def test_a_key_reported_by_several_tasks_is_final_per_task(
    tmp_path: Path, engines: Engines
) -> None:
    # The shard that finishes first differs between runs; the final metrics must not.
    shards = [
        task("shard_1", "sleep 0.2; echo '::metric tests=8'; echo '::metric auc=0.7'"),
        task("shard_2", "echo '::metric tests=6'"),
    ]
    engine = engines.open(workspace(tmp_path, *shards))
    run = await engine.wait_run(engine.start_run("p", {}, jobs=2).id)
    assert engine.run_detail(run.id).final_metrics() == {
        "shard_2.tests": 6.0,
        "shard_1.tests": 8.0,
        "auc": 0.7,
    }
