"""Reruns: all, failed (+downstream), from a task (+downstream); the rest is reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipdeck.engine import Engine
from shipdeck.errors import InvalidInput, NotFound, Refused
from shipdeck.model import RerunMode, RunStatus, TaskStatus, WorkspaceSpec

from .conftest import Engines, log_texts, task, workspace

# prepare -> train -> evaluate, and lint on its own. train fails until `fixed` exists.
TRAIN = "echo attempt >> train.calls; [ -f fixed ] || exit 1; echo '::metric auc=0.9'"


def pipeline(root: Path) -> WorkspaceSpec:
    return workspace(
        root,
        task("prepare", "echo prepared; echo '::metric rows=100'"),
        task("train", TRAIN, "prepare"),
        task("evaluate", "echo evaluated", "train"),
        task("lint", "echo linted"),
        params={"lr": 0.1},
    )


async def failed_run(root: Path, engine: Engine) -> int:
    run = await engine.wait_run(engine.start_run("p", {"lr": 0.5}).id)
    assert run.status == RunStatus.FAILED
    return run.id


async def test_rerun_failed_runs_failed_and_downstream_only(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(pipeline(tmp_path))
    first = await failed_run(tmp_path, engine)
    assert engine.rerun_plan(first, RerunMode.FAILED) == ["train", "evaluate"]
    (tmp_path / "fixed").touch()
    rerun = engine.rerun(first, RerunMode.FAILED)
    assert rerun.parent_id == first and rerun.rerun_mode == RerunMode.FAILED
    assert rerun.params == {"lr": 0.5}
    done = await engine.wait_run(rerun.id)
    assert done.status == RunStatus.SUCCEEDED and done.tasks_done == done.tasks_total == 4
    tasks = {t.name: t for t in engine.run_detail(rerun.id).tasks}
    assert {n: t.reused_from for n, t in tasks.items()} == {
        "prepare": first,
        "train": None,
        "evaluate": None,
        "lint": first,
    }
    assert all(t.status == TaskStatus.SUCCEEDED for t in tasks.values())
    assert (tmp_path / "train.calls").read_text().count("attempt") == 2
    # Reused tasks stay readable through the new run: logs and metrics.
    assert log_texts(engine, rerun.id, "prepare") == ["prepared", "::metric rows=100"]
    metrics = {(m.task, m.key, m.value) for m in engine.run_detail(rerun.id).metrics}
    assert metrics == {("prepare", "rows", 100.0), ("train", "auc", 0.9)}


async def test_rerun_from_a_task_keeps_the_origin_of_reused_results(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(pipeline(tmp_path))
    first = await failed_run(tmp_path, engine)
    (tmp_path / "fixed").touch()
    second = (await engine.wait_run(engine.rerun(first, RerunMode.FAILED).id)).id
    assert engine.rerun_plan(second, RerunMode.FROM, "train") == ["train", "evaluate"]
    third = engine.rerun(second, RerunMode.FROM, from_task="train")
    assert third.rerun_from == "train" and third.parent_id == second
    await engine.wait_run(third.id)
    tasks = {t.name: t.reused_from for t in engine.run_detail(third.id).tasks}
    # prepare and lint were produced by the first run, not by the second that reused them.
    assert tasks == {"prepare": first, "train": None, "evaluate": None, "lint": first}
    assert log_texts(engine, third.id, "prepare") == ["prepared", "::metric rows=100"]


async def test_rerun_all_runs_everything(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(pipeline(tmp_path))
    first = await failed_run(tmp_path, engine)
    assert engine.rerun_plan(first) == ["prepare", "train", "evaluate", "lint"]
    rerun = await engine.wait_run(engine.rerun(first, RerunMode.ALL).id)
    assert rerun.status == RunStatus.FAILED
    assert all(t.reused_from is None for t in engine.run_detail(rerun.id).tasks)
    assert log_texts(engine, rerun.id, "prepare") == ["prepared", "::metric rows=100"]


async def test_rerun_from_downstream_of_a_failure_skips_again(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(pipeline(tmp_path))
    first = await failed_run(tmp_path, engine)
    rerun = await engine.wait_run(engine.rerun(first, RerunMode.FROM, from_task="evaluate").id)
    evaluate = engine.run_detail(rerun.id).task("evaluate")
    assert evaluate and evaluate.status == TaskStatus.SKIPPED
    assert evaluate.reason == "skipped: train failed"
    assert rerun.status == RunStatus.FAILED


async def test_rerun_refusals_change_nothing(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(pipeline(tmp_path))
    (tmp_path / "fixed").touch()
    ok = await engine.wait_run(engine.start_run("p", {"lr": 0.1}).id)
    with pytest.raises(Refused, match="nothing to rerun"):
        engine.rerun(ok.id, RerunMode.FAILED)
    with pytest.raises(NotFound, match="no task 'nope'"):
        engine.rerun(ok.id, RerunMode.FROM, from_task="nope")
    with pytest.raises(InvalidInput):
        engine.rerun_plan(ok.id, RerunMode.FROM)
    with pytest.raises(NotFound, match="no run #99"):
        engine.rerun(99)
    assert [run.id for run in engine.runs()] == [ok.id]


async def test_a_running_run_cannot_be_rerun(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("s", "sleep 5")))
    running = engine.start_run("p", {})
    with pytest.raises(Refused, match="still"):
        engine.rerun(running.id)
    await engine.cancel(running.id)
    assert [run.id for run in engine.runs()] == [running.id]
