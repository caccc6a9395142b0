"""The demo's pipelines run for real through the local runner: real subprocesses, real files."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import tarfile

from shipdeck.model import Metric, RerunMode, RunDetail, RunStatus, TaskStatus
from tests.demo.conftest import RUN_DEADLINE, Demo


def statuses(detail: RunDetail) -> dict[str, TaskStatus]:
    return {task.name: task.status for task in detail.tasks}


def series(detail: RunDetail, task: str, key: str) -> list[tuple[int | None, float]]:
    points: list[Metric] = [m for m in detail.metrics if m.task == task and m.key == key]
    return [(m.step, m.value) for m in points]


async def test_ci_builds_a_verified_archive(demo: Demo) -> None:
    detail = await demo.run("ci")
    assert detail.run.status == RunStatus.SUCCEEDED, statuses(detail)

    archive = demo.root / "dist" / "shorturl-1.4.0.tar.gz"
    digest_line = (demo.root / "dist" / "shorturl-1.4.0.tar.gz.sha256").read_text()
    assert digest_line == f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}\n"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        init = tar.extractfile("shorturl-1.4.0/shorturl/__init__.py")
        assert init is not None
        assert '__version__ = "1.4.0"' in init.read().decode()
    assert "shorturl-1.4.0/shorturl/service.py" in names

    tests_per_shard = {task: series(detail, task, "tests") for task in ("unit_1", "unit_2")}
    assert tests_per_shard == {"unit_1": [(None, 8.0)], "unit_2": [(None, 6.0)]}
    assert series(detail, "unit_1", "test_failures") == [(None, 0.0)]
    assert series(detail, "package", "archive_bytes") == [(None, float(archive.stat().st_size))]
    assert "smoke test: shorturl.__version__ == '1.4.0'" in await demo.log_text(
        detail.run.id, "package"
    )


async def test_ci_archive_is_reproducible(demo: Demo) -> None:
    first = await demo.run("ci", version="2.0.1")
    digest = (demo.root / "dist" / "shorturl-2.0.1.tar.gz.sha256").read_text()
    second = await demo.run("ci", version="2.0.1")
    assert first.run.status == second.run.status == RunStatus.SUCCEEDED
    assert (demo.root / "dist" / "shorturl-2.0.1.tar.gz.sha256").read_text() == digest


async def test_ci_lint_catches_a_style_problem(demo: Demo) -> None:
    module = demo.root / "app" / "shorturl" / "codec.py"
    text = module.read_text()
    module.write_text(text + "x = 1   \n")
    bad_line = len(text.splitlines()) + 1
    detail = await demo.run("ci")
    assert detail.run.status == RunStatus.FAILED
    assert statuses(detail) == {
        "lint": TaskStatus.FAILED,
        "unit_1": TaskStatus.SKIPPED,
        "unit_2": TaskStatus.SKIPPED,
        "build": TaskStatus.SKIPPED,
        "package": TaskStatus.SKIPPED,
    }
    assert f"app/shorturl/codec.py:{bad_line}: trailing whitespace" in await demo.log_text(
        detail.run.id, "lint"
    )


async def test_ci_rejects_a_version_that_is_not_a_version(demo: Demo) -> None:
    detail = await demo.run("ci", version="../../escape")
    assert detail.run.status == RunStatus.FAILED
    assert statuses(detail)["build"] == TaskStatus.FAILED
    assert "param version='../../escape' is not a version" in await demo.log_text(
        detail.run.id, "build"
    )
    assert not (demo.root / "dist").exists()
    assert not (demo.root.parent.parent / "escape").exists()


async def test_train_learns_and_reports_metrics(demo: Demo) -> None:
    detail = await demo.run("train")
    assert detail.run.status == RunStatus.SUCCEEDED, statuses(detail)

    for task in ("train_a", "train_b"):
        losses = series(detail, task, "loss")
        assert [step for step, _ in losses] == list(range(1, 31))
        values = [value for _, value in losses]
        assert all(later < earlier for earlier, later in itertools.pairwise(values)), task

    final = {m.key: m.value for m in detail.metrics if m.task == "evaluate" and m.step is None}
    assert 0.5 < final["auc"] <= 1.0
    assert final["auc"] == max(final["auc_a"], final["auc_b"])
    assert 0.5 < final["accuracy"] <= 1.0
    assert [step for step, _ in series(detail, "evaluate", "val_loss")] == list(range(1, 31))

    model = json.loads((demo.root / "out" / "model.json").read_text())
    assert model["metrics"]["auc"] == final["auc"]
    assert len(model["weights"]) == 6
    assert "| variant | learning rate |" in (demo.root / "out" / "report.md").read_text()


async def test_same_seed_same_model_other_seed_other_model(demo: Demo) -> None:
    first = await demo.run("train", seed="3", rows="300", epochs="10")
    dataset = (demo.root / "data" / "train.csv").read_bytes()
    second = await demo.run("train", seed="3", rows="300", epochs="10")
    other = await demo.run("train", seed="4", rows="300", epochs="10")
    auc = [d.final_metrics()["auc"] for d in (first, second, other)]
    assert {d.run.status for d in (first, second, other)} == {RunStatus.SUCCEEDED}
    assert auc[0] == auc[1]
    assert auc[2] != auc[0]
    assert series(first, "train_b", "loss") == series(second, "train_b", "loss")
    assert (demo.root / "data" / "train.csv").read_bytes() != dataset  # seed 4 rewrote it


async def test_flaky_run_fails_and_rerun_failed_succeeds(demo: Demo) -> None:
    failed = await demo.run("train", flaky="1")
    assert failed.run.status == RunStatus.FAILED
    assert statuses(failed) == {
        "prepare": TaskStatus.SUCCEEDED,
        "train_a": TaskStatus.SUCCEEDED,
        "train_b": TaskStatus.FAILED,
        "evaluate": TaskStatus.SKIPPED,
        "report": TaskStatus.SKIPPED,
    }
    assert "Connection reset by peer" in await demo.log_text(failed.run.id, "train_b")
    assert len(series(failed, "train_b", "loss")) == 12  # it got to epoch 12
    assert await demo.runner.rerun_plan(failed.run.id, RerunMode.FAILED) == [
        "train_b",
        "evaluate",
        "report",
    ]

    rerun = await demo.runner.rerun(failed.run.id, RerunMode.FAILED, trigger="test")
    await demo.runner.wait_run(rerun.id)
    detail = await demo.runner.run(rerun.id)
    assert detail.run.status == RunStatus.SUCCEEDED, statuses(detail)
    assert detail.run.parent_id == failed.run.id
    kept = {t.name: t.reused_from for t in detail.tasks}
    assert kept == {
        "prepare": failed.run.id,
        "train_a": failed.run.id,
        "train_b": None,
        "evaluate": None,
        "report": None,
    }
    assert "after an earlier failed attempt" in await demo.log_text(rerun.id, "train_b")
    assert (demo.root / "out" / "model.json").is_file()

    again = await demo.run("train", flaky="true")
    assert again.run.status == RunStatus.FAILED  # every new flaky run fails once


async def test_seed_runs_started_together_leave_a_failure_that_a_rerun_fixes(demo: Demo) -> None:
    """`shipdeck demo` starts its seed runs at once. Runs of one pipeline share the
    workspace's files, so the demo declares `concurrency = 1`: without it the plain train
    run removed the flaky run's marker mid-way and the suggested rerun failed again."""
    from shipdeck.demo.seed import SEED_RUNS

    started = [await demo.runner.start_run(p, params, trigger="demo") for p, params in SEED_RUNS]
    for run in started:
        await asyncio.wait_for(demo.runner.wait_run(run.id), RUN_DEADLINE)
    details = [await demo.runner.run(run.id) for run in started]
    assert [d.run.status for d in details] == [
        RunStatus.SUCCEEDED,
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
    ]
    trains = [d.run for d in details if d.run.pipeline == "train"]
    assert trains[0].finished_at and trains[1].started_at
    assert trains[1].started_at >= trains[0].finished_at

    rerun = await demo.runner.rerun(started[-1].id, RerunMode.FAILED, trigger="test")
    assert (await demo.runner.wait_run(rerun.id)).status == RunStatus.SUCCEEDED
