"""Reruns: all, failed (+downstream), from a task (+downstream); the rest is reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipdeck.engine import Engine, rerun_plan
from shipdeck.errors import InvalidInput, NotFound, Refused
from shipdeck.model import RerunMode, RunStatus, TaskRun, TaskStatus, WorkspaceSpec
from tests.engine.conftest import Engines, eventually, log_texts, task, workspace

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


async def test_rerun_from_downstream_of_a_failure_runs_the_failure_again_first(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(pipeline(tmp_path))
    first = await failed_run(tmp_path, engine)
    # train failed, so evaluate was skipped: keeping train as it was would skip evaluate again.
    assert engine.rerun_plan(first, RerunMode.FROM, "evaluate") == ["train", "evaluate"]
    (tmp_path / "fixed").touch()
    rerun = await engine.wait_run(engine.rerun(first, RerunMode.FROM, from_task="evaluate").id)
    assert rerun.status == RunStatus.SUCCEEDED
    tasks = {t.name: (t.status, t.reused_from) for t in engine.run_detail(rerun.id).tasks}
    assert tasks == {
        "prepare": (TaskStatus.SUCCEEDED, first),
        "train": (TaskStatus.SUCCEEDED, None),
        "evaluate": (TaskStatus.SUCCEEDED, None),
        "lint": (TaskStatus.SUCCEEDED, first),
    }


async def test_rerun_from_after_a_cancelled_run_runs_the_cancelled_upstream(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(
        workspace(
            tmp_path,
            task("a", "[ -f fast ] || sleep 30"),
            task("b", "true", "a"),
            task("c", "true", "b"),
            task("side", "exit 3"),
        )
    )
    run = engine.start_run("p", {})

    def statuses(run_id: str) -> dict[str, TaskStatus]:
        return {t.name: t.status for t in engine.run_detail(run_id).tasks}

    await eventually(lambda: statuses(run.id)["a"] == TaskStatus.RUNNING)
    await eventually(lambda: statuses(run.id)["side"] == TaskStatus.FAILED)
    assert (await engine.cancel(run.id)).status == RunStatus.CANCELLED
    assert statuses(run.id)["a"] == statuses(run.id)["b"] == TaskStatus.CANCELLED
    # a and b did not succeed: c cannot run without them. side failed too, but c does not
    # need it, so it keeps its result.
    assert engine.rerun_plan(run.id, RerunMode.FROM, "c") == ["a", "b", "c"]
    (tmp_path / "fast").touch()
    rerun = await engine.wait_run(engine.rerun(run.id, RerunMode.FROM, from_task="c").id)
    tasks = statuses(rerun.id)
    assert tasks == {
        "a": TaskStatus.SUCCEEDED,
        "b": TaskStatus.SUCCEEDED,
        "c": TaskStatus.SUCCEEDED,
        "side": TaskStatus.FAILED,
    }


def test_rerun_plan_from_a_task_takes_only_its_own_upstream_failures() -> None:
    spec = pipeline(Path("/ws")).pipelines["p"]
    statuses = {
        "prepare": TaskStatus.FAILED,
        "train": TaskStatus.SKIPPED,
        "evaluate": TaskStatus.SKIPPED,
        "lint": TaskStatus.FAILED,
    }
    previous = {name: TaskRun(run_id=1, name=name, status=s) for name, s in statuses.items()}
    assert rerun_plan(spec, previous, RerunMode.FROM, "evaluate") == [
        "prepare",
        "train",
        "evaluate",
    ]
    assert rerun_plan(spec, previous, RerunMode.FROM, "lint") == ["lint"]
    succeeded = {
        name: TaskRun(run_id=1, name=name, status=TaskStatus.SUCCEEDED) for name in statuses
    }
    assert rerun_plan(spec, succeeded, RerunMode.FROM, "train") == ["train", "evaluate"]


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
        engine.rerun("99")
    assert [run.id for run in engine.runs()] == [ok.id]


async def test_a_running_run_cannot_be_rerun(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("s", "sleep 5")))
    running = engine.start_run("p", {})
    with pytest.raises(Refused, match="still"):
        engine.rerun(running.id)
    await engine.cancel(running.id)
    assert [run.id for run in engine.runs()] == [running.id]


def test_upstream_is_the_mirror_of_downstream() -> None:
    """A rerun from a task keeps what it needs (upstream) and reruns what needs it
    (downstream): over a random DAG, a is upstream of b exactly when b is downstream of a."""
    import random

    from shipdeck.model import PipelineSpec, TaskSpec

    rng = random.Random(7)
    tasks = {}
    for i in range(40):
        needs = sorted({f"t{rng.randrange(i)}" for _ in range(rng.randint(0, 3))} if i else set())
        tasks[f"t{i}"] = TaskSpec(name=f"t{i}", run="true", needs=tuple(needs))
    spec = PipelineSpec(name="p", tasks=tasks)
    for b in tasks:
        above = spec.upstream(b)
        assert b not in above
        assert above == {a for a in tasks if a != b and b in spec.downstream({a})}
    assert spec.upstream("t0") == set()
