"""DAG scheduling on real subprocesses: parallelism, skips, retries, failures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shipdeck.model import RunStatus, TaskStatus
from tests.engine.conftest import Engines, log_texts, task, workspace


async def test_independent_tasks_overlap_with_two_jobs(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "sleep 0.3"), task("b", "sleep 0.3")))
    run = await engine.wait_run(engine.start_run("p", {}, jobs=2).id)
    assert run.status == RunStatus.SUCCEEDED
    a, b = engine.run_detail(run.id).tasks
    assert a.started_at and a.finished_at and b.started_at and b.finished_at
    assert a.started_at < b.finished_at and b.started_at < a.finished_at


async def test_one_job_runs_tasks_one_after_another(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "sleep 0.2"), task("b", "sleep 0.2")))
    run = await engine.wait_run(engine.start_run("p", {}, jobs=1).id)
    first, second = sorted(engine.run_detail(run.id).tasks, key=lambda t: t.started_at or 0)
    assert first.finished_at and second.started_at
    assert second.started_at >= first.finished_at


async def test_job_limit_is_the_maximum_concurrency(tmp_path: Path, engines: Engines) -> None:
    tasks = [task(f"t{i}", "sleep 0.15") for i in range(5)]
    engine = engines.open(workspace(tmp_path, *tasks))
    run = await engine.wait_run(engine.start_run("p", {}, jobs=2).id)
    detail = engine.run_detail(run.id)
    edges = []
    for t in detail.tasks:
        assert t.started_at and t.finished_at
        edges += [(t.started_at, 1), (t.finished_at, -1)]
    running = peak = 0
    for _, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        running += step
        peak = max(peak, running)
    assert peak == 2


async def test_a_task_starts_only_after_its_needs_succeeded(
    tmp_path: Path, engines: Engines
) -> None:
    spec = workspace(
        tmp_path,
        task("build", "sleep 0.1; echo built > artifact"),
        task("test", "cat artifact", "build"),
    )
    engine = engines.open(spec)
    run = await engine.wait_run(engine.start_run("p", {}, jobs=4).id)
    assert run.status == RunStatus.SUCCEEDED
    build, test = engine.run_detail(run.id).tasks
    assert build.finished_at and test.started_at and test.started_at >= build.finished_at
    assert log_texts(engine, run.id, "test") == ["built"]


async def test_failure_skips_everything_downstream(tmp_path: Path, engines: Engines) -> None:
    spec = workspace(
        tmp_path,
        task("build", "exit 3"),
        task("other", "true"),
        task("test", "true", "build"),
        task("deploy", "true", "test", "other"),
    )
    engine = engines.open(spec)
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.FAILED
    assert (run.tasks_done, run.tasks_total) == (2, 4)  # the skipped test and deploy never ran
    detail = engine.run_detail(run.id)
    build, other, test, deploy = (detail.task(n) for n in ("build", "other", "test", "deploy"))
    assert build and build.status == TaskStatus.FAILED and build.exit_code == 3
    assert build.reason == "exit 3"
    assert other and other.status == TaskStatus.SUCCEEDED
    assert test and test.status == TaskStatus.SKIPPED and test.reason == "skipped: build failed"
    assert deploy and deploy.status == TaskStatus.SKIPPED
    assert deploy.reason == "skipped: build failed"
    assert test.attempts == 0 and test.started_at is None


async def test_missing_command_fails_with_exit_127(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "no-such-command-xyz --flag")))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.FAILED
    a = engine.run_detail(run.id).tasks[0]
    assert a.exit_code == 127 and a.reason == "exit 127"
    lines = engine.read_log(run.id, "a").lines
    assert any("not found" in line.text and line.stream == "err" for line in lines)
    assert (lines[-1].stream, lines[-1].text) == ("sys", "exit 127")


async def test_missing_cwd_fails_the_task_with_a_note(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "true", cwd="nowhere")))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    a = engine.run_detail(run.id).tasks[0]
    assert a.status == TaskStatus.FAILED
    assert a.reason == f"cwd not found: {tmp_path / 'nowhere'}"
    assert log_texts(engine, run.id, "a") == [a.reason]


async def test_task_cwd_is_relative_to_the_workspace(tmp_path: Path, engines: Engines) -> None:
    (tmp_path / "sub").mkdir()
    engine = engines.open(workspace(tmp_path, task("a", "pwd", cwd="sub"), task("b", "pwd")))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert log_texts(engine, run.id, "a") == [str(tmp_path / "sub")]
    assert log_texts(engine, run.id, "b") == [str(tmp_path)]


async def test_retry_after_a_failed_attempt(tmp_path: Path, engines: Engines) -> None:
    flaky = "if [ -f marker ]; then echo second; else touch marker; echo first; exit 1; fi"
    engine = engines.open(workspace(tmp_path, task("a", flaky, retries=2)))
    after = engine.last_seq()
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.SUCCEEDED
    a = engine.run_detail(run.id).tasks[0]
    assert a.status == TaskStatus.SUCCEEDED and a.attempts == 2 and a.exit_code == 0
    assert log_texts(engine, run.id, "a") == [
        "attempt 1/3",
        "first",
        "exit 1",
        "attempt 2/3",
        "second",
    ]
    page = await engine.wait_events(after, wait=0)
    statuses = [e.data.status for e in page.events if e.kind == "task"]
    assert statuses == ["pending", "running", "retrying", "running", "succeeded"]


async def test_retries_run_out(tmp_path: Path, engines: Engines) -> None:
    spec = workspace(tmp_path, task("a", "exit 2", retries=1), task("b", "true", "a"))
    engine = engines.open(spec)
    run = await engine.wait_run(engine.start_run("p", {}).id)
    a, b = engine.run_detail(run.id).tasks
    assert a.status == TaskStatus.FAILED and a.attempts == 2 and a.reason == "exit 2"
    assert b.status == TaskStatus.SKIPPED


async def test_retry_delay_separates_attempts(tmp_path: Path, engines: Engines) -> None:
    flaky = "if [ -f marker ]; then exit 0; else touch marker; exit 1; fi"
    engine = engines.open(workspace(tmp_path, task("a", flaky, retries=1, retry_delay=0.3)))
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.SUCCEEDED
    lines = engine.read_log(run.id, "a").lines
    failed = next(line for line in lines if line.text == "exit 1")
    second = next(line for line in lines if line.text == "attempt 2/2")
    assert (second.ts - failed.ts).total_seconds() >= 0.29


async def test_task_hook_runs_on_success_and_can_fail_the_task(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(workspace(tmp_path, task("ok", "true"), task("bad", "true")))
    seen: list[tuple[int, str]] = []

    async def hook(run: object, spec: object) -> None:
        name = getattr(spec, "name", "")
        seen.append((getattr(run, "id", 0), name))
        if name == "bad":
            raise RuntimeError("could not register model churn: artifact missing")

    engine.on_task_succeeded.append(hook)
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert sorted(seen) == [(run.id, "bad"), (run.id, "ok")]
    ok, bad = engine.run_detail(run.id).tasks
    assert ok.status == TaskStatus.SUCCEEDED
    assert bad.status == TaskStatus.FAILED
    assert bad.reason == "could not register model churn: artifact missing"
    assert run.status == RunStatus.FAILED


async def test_an_engine_error_fails_the_run_visibly(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "true"), task("b", "true", "a")))
    # The run's log directory cannot be created: a file sits where it should go.
    (tmp_path / ".shipdeck" / "logs").mkdir(parents=True, exist_ok=True)
    (tmp_path / ".shipdeck" / "logs" / "1").write_text("in the way")
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.id == "1" and run.status == RunStatus.FAILED
    for t in engine.run_detail(run.id).tasks:
        assert t.status == TaskStatus.FAILED
        assert t.reason and t.reason.startswith("shipdeck error: ")
    # The engine itself keeps working.
    (tmp_path / ".shipdeck" / "logs" / "1").unlink()
    assert (await engine.wait_run(engine.start_run("p", {}).id)).status == RunStatus.SUCCEEDED


async def test_a_pipeline_outside_the_workspace_can_run(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(workspace(tmp_path, task("a", "true")))
    extra = workspace(tmp_path, task("deploy", "echo deploying $SHIPDECK_PARAM_ENV"), name="svc")
    spec = extra.pipelines["svc"]
    run = await engine.wait_run(engine.start_pipeline(spec, {"env": "prod"}, trigger="deploy").id)
    assert (run.pipeline, run.trigger, run.status) == ("svc", "deploy", RunStatus.SUCCEEDED)
    assert log_texts(engine, run.id, "deploy") == ["deploying prod"]


async def test_an_engine_error_in_one_task_fails_only_that_task(
    tmp_path: Path, engines: Engines
) -> None:
    spec = workspace(
        tmp_path, task("a", "echo hi"), task("b", "echo there"), task("c", "true", "a")
    )
    engine = engines.open(spec)
    # Task a's log cannot be created: a directory sits where the file should go.
    (tmp_path / ".shipdeck" / "logs" / "1" / "a.log").mkdir(parents=True)
    run = await engine.wait_run(engine.start_run("p", {}, jobs=1).id)
    detail = engine.run_detail(run.id)
    a, b, c = (detail.task(name) for name in "abc")
    assert a and a.status == TaskStatus.FAILED
    assert a.reason and a.reason.startswith("shipdeck error: ")
    assert b and b.status == TaskStatus.SUCCEEDED
    assert c and c.status == TaskStatus.SKIPPED and c.reason == "skipped: a failed"
    assert run.status == RunStatus.FAILED


async def test_exits_are_noticed_without_pidfds(
    tmp_path: Path, engines: Engines, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the kernel has no pidfd_open (macOS, old Linux), a thread waits for each child.
    monkeypatch.delattr(os, "pidfd_open", raising=False)
    spec = workspace(tmp_path, task("a", "sleep 0.2; echo a"), task("b", "exit 3"))
    engine = engines.open(spec)
    run = await engine.wait_run(engine.start_run("p", {}, jobs=2).id)
    a, b = engine.run_detail(run.id).tasks
    assert (a.status, a.exit_code, b.status, b.exit_code) == (
        TaskStatus.SUCCEEDED,
        0,
        TaskStatus.FAILED,
        3,
    )
    assert log_texts(engine, run.id, "a") == ["a"]
