"""The Runner protocol over the embedded engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipdeck.errors import InvalidInput, NotFound, Refused
from shipdeck.model import RerunMode, RunStatus, TaskStatus
from shipdeck.runners.local import LocalRunner, open_local_runner
from shipdeck.runners.protocol import Runner

from .conftest import eventually, process_running, task, workspace


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[LocalRunner]:
    spec = workspace(
        tmp_path,
        task("build", 'echo "building $SHIPDECK_PARAM_TARGET x$SHIPDECK_PARAM_COUNT"'),
        task("test", "[ -f fixed ] || exit 1", "build"),
        params={"target": "linux", "count": 2, "fast": False},
    )
    opened = await open_local_runner(spec, user="ops@host")
    yield opened
    await opened.close()


async def test_is_a_runner(runner: LocalRunner) -> None:
    assert isinstance(runner, Runner)
    assert runner.name == "local"
    assert [p.name for p in await runner.pipelines()] == ["p"]


async def test_start_run_coerces_params_and_records_who(runner: LocalRunner) -> None:
    run = await runner.start_run("p", {"count": "5", "fast": "true"}, jobs=3, trigger="tui")
    assert run.params == {"target": "linux", "count": 5, "fast": True}
    assert (run.user, run.trigger, run.jobs) == ("ops@host", "tui", 3)
    done = await runner.wait_run(run.id)
    assert done.status == RunStatus.FAILED
    log = await runner.read_log(run.id, "build")
    assert [line.text for line in log.lines] == ["building linux x5"]


async def test_bad_input_is_rejected_without_a_run(runner: LocalRunner) -> None:
    with pytest.raises(NotFound, match="no pipeline 'nope'"):
        await runner.start_run("nope")
    with pytest.raises(InvalidInput, match="count"):
        await runner.start_run("p", {"count": "many"})
    with pytest.raises(InvalidInput, match="colour"):
        await runner.start_run("p", {"colour": "red"})
    with pytest.raises(InvalidInput, match="jobs"):
        await runner.start_run("p", jobs=0)
    assert await runner.runs() == []


async def test_resolve_run_references(runner: LocalRunner) -> None:
    with pytest.raises(NotFound, match="no runs"):
        await runner.resolve_run("last")
    first = await runner.wait_run((await runner.start_run("p")).id)
    second = await runner.wait_run((await runner.start_run("p")).id)
    assert await runner.resolve_run(str(first.id)) == first.id
    assert await runner.resolve_run(f"#{first.id}") == first.id
    assert await runner.resolve_run("last") == second.id
    assert await runner.resolve_run("last:p") == second.id
    with pytest.raises(NotFound, match="no run #99"):
        await runner.resolve_run("99")
    with pytest.raises(InvalidInput, match="'abc'"):
        await runner.resolve_run("abc")
    with pytest.raises(NotFound, match="no pipeline 'zzz'"):
        await runner.resolve_run("last:zzz")


async def test_runs_pages_newest_first(runner: LocalRunner) -> None:
    ids = [(await runner.wait_run((await runner.start_run("p")).id)).id for _ in range(3)]
    assert [r.id for r in await runner.runs()] == ids[::-1]
    assert [r.id for r in await runner.runs(limit=1, before=ids[2])] == [ids[1]]
    assert [r.id for r in await runner.runs(pipeline="other")] == []


async def test_rerun_through_the_runner(runner: LocalRunner, tmp_path: Path) -> None:
    failed = await runner.wait_run((await runner.start_run("p")).id)
    assert await runner.rerun_plan(failed.id, RerunMode.FAILED) == ["test"]
    (tmp_path / "fixed").touch()
    rerun = await runner.rerun(failed.id, RerunMode.FAILED)
    assert (await runner.wait_run(rerun.id)).status == RunStatus.SUCCEEDED
    detail = await runner.run(rerun.id)
    assert detail.run.parent_id == failed.id and detail.run.user == "ops@host"
    build = detail.task("build")
    assert build and build.reused_from == failed.id


async def test_cancel_then_cancel_again_is_refused(tmp_path: Path) -> None:
    spec = workspace(tmp_path, task("a", "echo $$ > a.pid; exec sleep 30"))
    runner = await open_local_runner(spec, user="u@h")
    try:
        run = await runner.start_run("p")
        await eventually(lambda: (tmp_path / "a.pid").exists())
        assert (await runner.cancel(run.id)).status == RunStatus.CANCELLED
        with pytest.raises(Refused, match="already cancelled"):
            await runner.cancel(run.id)
    finally:
        await runner.close()


async def test_close_leaves_no_orphans(tmp_path: Path) -> None:
    spec = workspace(tmp_path, task("a", "echo $$ > a.pid; exec sleep 30"))
    runner = await open_local_runner(spec)
    run = await runner.start_run("p")
    pidfile = tmp_path / "a.pid"
    await eventually(lambda: pidfile.exists() and pidfile.read_text().strip() != "")
    await runner.close()
    assert not process_running(int(pidfile.read_text()))
    reopened = await open_local_runner(spec)
    try:
        detail = await reopened.run(run.id)
        assert detail.run.status == RunStatus.CANCELLED
        assert detail.tasks[0].status == TaskStatus.CANCELLED
        assert detail.tasks[0].reason == "runner closed"
        assert "@" in detail.run.user
    finally:
        await reopened.close()


async def test_events_follow_a_run(runner: LocalRunner) -> None:
    after = await runner.last_seq()
    run = await runner.start_run("p")
    kinds: list[str] = []
    finished = False
    while not finished:
        page = await runner.wait_events(after, wait=5)
        assert page.events and not page.reset
        after = page.last_seq
        for event in page.events:
            kinds.append(event.kind.value)
            if event.kind == "run" and event.data.status == "failed":
                finished = True
    assert {"run", "task", "log"} <= set(kinds)
    assert (await runner.wait_run(run.id)).status == RunStatus.FAILED
