"""Pipeline `concurrency`: later runs wait queued, first started first, across processes."""

from __future__ import annotations

import signal
from pathlib import Path

from shipdeck.engine import Engine
from shipdeck.model import PipelineSpec, Run, RunStatus, TaskStatus, WorkspaceSpec
from tests.engine.conftest import Engines, Owner, eventually, start_owner, task

# Each run holds its slot until the test creates `release-<run id>`.
HOLD = 'while [ ! -e "release-$SHIPDECK_RUN_ID" ]; do sleep 0.01; done'


def limited(root: Path, concurrency: int | None, run: str = HOLD) -> WorkspaceSpec:
    pipeline = PipelineSpec(
        name="p",
        concurrency=concurrency,
        tasks={"hold": task("hold", run), "after": task("after", "true", "hold")},
    )
    return WorkspaceSpec(root=root, file=root / "shipdeck.toml", pipelines={"p": pipeline})


def release(root: Path, run: Run) -> None:
    (root / f"release-{run.id}").touch()


def status(engine: Engine, run: Run) -> RunStatus:
    return engine.get_run(run.id).status


async def test_a_second_run_waits_queued_until_the_first_finishes(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(limited(tmp_path, 1))
    first = engine.start_run("p", {})
    second = engine.start_run("p", {})
    await eventually(lambda: engine.run_detail(first.id).tasks[0].status == TaskStatus.RUNNING)
    release(tmp_path, second)  # its own release is no reason to start
    await eventually(lambda: status(engine, first) == RunStatus.RUNNING)
    assert status(engine, second) == RunStatus.QUEUED
    assert all(t.status == TaskStatus.PENDING for t in engine.run_detail(second.id).tasks)
    assert engine.run_detail(second.id).run.started_at is None

    release(tmp_path, first)
    done_first, done_second = await engine.wait_run(first.id), await engine.wait_run(second.id)
    assert done_first.status == done_second.status == RunStatus.SUCCEEDED
    assert done_first.finished_at and done_second.started_at
    assert done_second.started_at >= done_first.finished_at


async def test_first_started_first_served_within_the_limit(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(limited(tmp_path, 2))
    runs = [engine.start_run("p", {}) for _ in range(4)]
    await eventually(lambda: [status(engine, r) for r in runs].count(RunStatus.RUNNING) == 2)
    assert [status(engine, r) for r in runs] == [
        RunStatus.RUNNING,
        RunStatus.RUNNING,
        RunStatus.QUEUED,
        RunStatus.QUEUED,
    ]
    release(tmp_path, runs[1])
    await eventually(lambda: status(engine, runs[2]) == RunStatus.RUNNING)
    assert status(engine, runs[3]) == RunStatus.QUEUED
    for run in runs:
        release(tmp_path, run)
    for run in runs:
        assert (await engine.wait_run(run.id)).status == RunStatus.SUCCEEDED


async def test_cancelling_a_queued_run_never_starts_it(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(limited(tmp_path, 1))
    first = engine.start_run("p", {})
    second = engine.start_run("p", {})
    await eventually(lambda: status(engine, first) == RunStatus.RUNNING)

    cancelled = await engine.cancel(second.id)
    assert cancelled.status == RunStatus.CANCELLED and cancelled.started_at is None
    tasks = engine.run_detail(second.id).tasks
    assert {t.status for t in tasks} == {TaskStatus.CANCELLED}
    assert all(t.started_at is None and t.attempts == 0 for t in tasks)
    assert status(engine, first) == RunStatus.RUNNING
    release(tmp_path, first)
    assert (await engine.wait_run(first.id)).status == RunStatus.SUCCEEDED


async def test_without_a_limit_runs_overlap(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(limited(tmp_path, None))
    runs = [engine.start_run("p", {}) for _ in range(3)]
    await eventually(lambda: all(status(engine, r) == RunStatus.RUNNING for r in runs))
    for run in runs:
        release(tmp_path, run)
        await engine.wait_run(run.id)


async def queued_behind_another_process(
    root: Path, engines: Engines, owners: list[Owner]
) -> tuple[Engine, Owner, Run]:
    """A run of ours, queued behind a run that another process owns and is executing."""
    spec = limited(root, 1)
    other = await start_owner(spec, owners)
    engine = engines.open(spec)
    ours = engine.start_run("p", {})
    await eventually(lambda: engine.get_run(other.run_id).status == RunStatus.RUNNING)
    assert status(engine, ours) == RunStatus.QUEUED
    return engine, other, ours


async def test_runs_of_another_process_hold_their_slots(
    tmp_path: Path, engines: Engines, owners: list[Owner]
) -> None:
    engine, other, ours = await queued_behind_another_process(tmp_path, engines, owners)

    (tmp_path / f"release-{other.run_id}").touch()
    assert await other.final_status() == "succeeded"
    release(tmp_path, ours)
    assert (await engine.wait_run(ours.id)).status == RunStatus.SUCCEEDED


async def test_a_run_whose_owner_died_frees_its_slot(
    tmp_path: Path, engines: Engines, owners: list[Owner]
) -> None:
    engine, other, ours = await queued_behind_another_process(tmp_path, engines, owners)

    other.process.send_signal(signal.SIGKILL)
    await other.process.wait()
    await eventually(lambda: status(engine, ours) == RunStatus.RUNNING)
    assert engine.get_run(other.run_id).status == RunStatus.INTERRUPTED
    release(tmp_path, ours)
    assert (await engine.wait_run(ours.id)).status == RunStatus.SUCCEEDED


async def test_raising_the_limit_lets_queued_runs_start(tmp_path: Path, engines: Engines) -> None:
    engine = engines.open(limited(tmp_path, 1))
    runs = [engine.start_run("p", {}) for _ in range(3)]
    await eventually(lambda: status(engine, runs[0]) == RunStatus.RUNNING)
    assert status(engine, runs[1]) == status(engine, runs[2]) == RunStatus.QUEUED

    engine.workspace = limited(tmp_path, 2)  # as the runner does when shipdeck.toml changes
    await eventually(lambda: status(engine, runs[1]) == RunStatus.RUNNING)
    assert status(engine, runs[0]) == RunStatus.RUNNING
    assert status(engine, runs[2]) == RunStatus.QUEUED
    engine.workspace = limited(tmp_path, None)  # no limit at all
    await eventually(lambda: status(engine, runs[2]) == RunStatus.RUNNING)
    for run in runs:
        release(tmp_path, run)
        assert (await engine.wait_run(run.id)).status == RunStatus.SUCCEEDED
