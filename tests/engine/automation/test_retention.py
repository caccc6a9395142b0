"""`collect_garbage` on a real engine's history: what goes, what always stays, and the files."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from shipdeck.engine.automation.retention import collect_garbage
from shipdeck.errors import NotFound
from shipdeck.model import PipelineSpec, RerunMode, RetentionSpec, RunStatus, WorkspaceSpec
from tests.engine.conftest import Engines, eventually, log_texts, task


def _workspace(root: Path) -> WorkspaceSpec:
    quick = PipelineSpec(name="quick", tasks={"a": task("a", "echo quick $SHIPDECK_RUN_ID")})
    other = PipelineSpec(name="other", tasks={"a": task("a", "echo other")})
    slow = PipelineSpec(name="slow", tasks={"a": task("a", "echo started; sleep 30")})
    flaky = PipelineSpec(
        name="flaky",
        tasks={
            "prepare": task("prepare", "echo prepared by $SHIPDECK_RUN_ID"),
            "check": task("check", "test -e ok", "prepare"),
        },
    )
    pipelines = {p.name: p for p in (quick, other, slow, flaky)}
    return WorkspaceSpec(root=root, file=root / "shipdeck.toml", pipelines=pipelines)


async def _runs(engine_open: Engines, root: Path, pipeline: str, count: int) -> list[int]:
    engine = engine_open.opened[0]
    ids = []
    for _ in range(count):
        run = engine.start_run(pipeline, {})
        await engine.wait_run(run.id)
        ids.append(run.id)
    return ids


def _log_dirs(root: Path) -> set[str]:
    return {path.name for path in (root / ".shipdeck" / "logs").iterdir()}


async def test_keep_counts_per_pipeline_and_runs_in_progress_stay(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(_workspace(tmp_path))
    slow = engine.start_run("slow", {})
    await eventually(lambda: engine.get_run(slow.id).status == RunStatus.RUNNING)
    quick = await _runs(engines, tmp_path, "quick", 4)
    other = await _runs(engines, tmp_path, "other", 2)
    engine.persister.flush()

    report = collect_garbage(tmp_path / ".shipdeck", RetentionSpec(keep=1))
    assert report.deleted_runs == quick[:3] + other[:1]
    assert report.pipelines == {"quick": 3, "other": 1}
    assert report.kept_runs == 3  # slow (running), the newest quick, the newest other
    assert report.log_bytes > 0
    assert _log_dirs(tmp_path) == {slow.id, quick[-1], other[-1]}
    for run_id in quick[:3]:
        with pytest.raises(NotFound):
            engine.get_run(run_id)
    assert log_texts(engine, quick[-1], "a") == [f"quick {quick[-1]}"]

    nothing = collect_garbage(tmp_path / ".shipdeck", RetentionSpec(keep=0))
    assert nothing.deleted_runs == [quick[-1], other[-1]]  # never the running one
    assert engine.get_run(slow.id).status == RunStatus.RUNNING
    await engine.cancel(slow.id)


async def test_every_limit_must_allow_a_deletion(tmp_path: Path, engines: Engines) -> None:
    engines.open(_workspace(tmp_path))
    quick = await _runs(engines, tmp_path, "quick", 3)
    state = tmp_path / ".shipdeck"
    young = collect_garbage(state, RetentionSpec(keep=1, older_than=3600), dry_run=True)
    assert young.deleted_runs == []  # beyond keep, but not older than an hour
    later = time.time() + 7200
    both = collect_garbage(state, RetentionSpec(keep=1, older_than=3600), now=later, dry_run=True)
    assert both.deleted_runs == quick[:2]
    age_only = collect_garbage(state, RetentionSpec(older_than=3600), now=later, dry_run=True)
    assert age_only.deleted_runs == quick
    assert both.dry_run and both.log_bytes > 0
    assert _log_dirs(tmp_path) == set(quick)  # a dry run deletes nothing
    assert collect_garbage(state, RetentionSpec(keep=1), now=later).deleted_runs == quick[:2]


async def test_a_run_whose_tasks_a_kept_run_reuses_is_kept(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(_workspace(tmp_path))
    failed = engine.start_run("flaky", {})
    assert (await engine.wait_run(failed.id)).status == RunStatus.FAILED
    (tmp_path / "ok").write_text("")
    rerun = engine.rerun(failed.id, RerunMode.FAILED)
    assert (await engine.wait_run(rerun.id)).status == RunStatus.SUCCEEDED

    state = tmp_path / ".shipdeck"
    spared = collect_garbage(state, RetentionSpec(keep=1))
    assert spared.deleted_runs == []
    assert [(p.run_id, p.reason) for p in spared.protected] == [
        (failed.id, f"run #{rerun.id} reuses its tasks (and their logs)")
    ]
    assert log_texts(engine, rerun.id, "prepare") == [f"prepared by {failed.id}"]
    # Once the rerun may go too, nothing holds the first run back.
    assert collect_garbage(state, RetentionSpec(keep=0)).deleted_runs == [failed.id, rerun.id]


async def test_log_directories_a_crashed_pass_left_are_removed(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(_workspace(tmp_path))
    quick = await _runs(engines, tmp_path, "quick", 3)
    logs = tmp_path / ".shipdeck" / "logs"
    db = sqlite3.connect(tmp_path / ".shipdeck" / "shipdeck.db")
    with db:  # a pass that committed its deletion, then died before removing the files
        db.execute("DELETE FROM tasks WHERE run_id = ?", (quick[0],))
        db.execute("DELETE FROM runs WHERE id = ?", (quick[0],))
    db.close()
    (logs / "999").mkdir()  # newer than any run in the history: a run being created
    (logs / "999" / "a.log").write_text("x")
    report = collect_garbage(tmp_path / ".shipdeck", RetentionSpec(keep=5))
    assert report.deleted_runs == []
    assert report.log_bytes > 0
    assert _log_dirs(tmp_path) == {quick[1], quick[2], "999"}
    assert engine.get_run(quick[1]).status == RunStatus.SUCCEEDED


async def test_a_history_from_a_newer_shipdeck_is_left_alone(
    tmp_path: Path, engines: Engines
) -> None:
    engine = engines.open(_workspace(tmp_path))
    await _runs(engines, tmp_path, "quick", 2)
    await engine.close()
    with sqlite3.connect(tmp_path / ".shipdeck" / "shipdeck.db") as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'runs_schema'")
    db.close()
    with pytest.raises(RuntimeError, match="written by a newer shipdeck"):
        collect_garbage(tmp_path / ".shipdeck", RetentionSpec(keep=0))
    assert len(_log_dirs(tmp_path)) == 2


def test_no_history_yet_is_nothing_to_do(tmp_path: Path) -> None:
    report = collect_garbage(tmp_path / ".shipdeck", RetentionSpec(keep=0))
    assert report.deleted_runs == [] and report.kept_runs == 0
    assert not (tmp_path / ".shipdeck").exists()


async def test_runs_created_while_passes_delete_are_never_lost(
    tmp_path: Path, engines: Engines
) -> None:
    """A pass in another thread, again and again, while the engine creates and finishes
    runs: every run survives until a pass may delete it, and rows and logs stay in step."""
    engine = engines.open(_workspace(tmp_path))
    state = tmp_path / ".shipdeck"
    stop = False
    deleted: set[int] = set()

    def passes() -> int:
        count = 0
        while not stop:
            deleted.update(collect_garbage(state, RetentionSpec(keep=3)).deleted_runs)
            count += 1
        return count

    collector = asyncio.create_task(asyncio.to_thread(passes))
    ids = await _runs(engines, tmp_path, "quick", 40)
    stop = True
    assert await collector > 1
    assert all(engine.get_run(run_id).status == RunStatus.SUCCEEDED for run_id in ids[-3:])
    collect_garbage(state, RetentionSpec(keep=3))
    engine.persister.flush()
    remaining = {run.id for run in engine.runs(limit=100)}
    assert remaining == set(ids[-3:])
    assert _log_dirs(tmp_path) == remaining
    db = sqlite3.connect(state / "shipdeck.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert (
        db.execute(
            "SELECT COUNT(*) FROM tasks WHERE run_id NOT IN (SELECT id FROM runs)"
        ).fetchone()[0]
        == 0
    )
    db.close()
