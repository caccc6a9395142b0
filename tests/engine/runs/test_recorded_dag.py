"""Each run records its tasks' needs (its own DAG); stores written before that still open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shipdeck.engine.runs.store import SCHEMA_VERSION, Store
from shipdeck.model import PipelineSpec, RunDetail, RunStatus, WorkspaceSpec
from tests.engine.conftest import Engines, task, workspace
from tests.engine.legacy_store import runs_version

# The tasks table as shipdeck wrote it at schema version 1 (before `needs`).
V1_TASKS = """
CREATE TABLE tasks (
    run_id INTEGER NOT NULL REFERENCES runs (id), name TEXT NOT NULL, position INTEGER NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, exit_code INTEGER,
    started_at REAL, finished_at REAL, reason TEXT, reused_from INTEGER, pid INTEGER,
    PRIMARY KEY (run_id, name)
)
"""


async def test_a_run_keeps_the_dag_it_ran_with(tmp_path: Path, engines: Engines) -> None:
    spec = workspace(
        tmp_path, task("a", "true"), task("b", "true", "a"), task("c", "true", "a", "b")
    )
    engine = engines.open(spec)
    run = await engine.wait_run(engine.start_run("p", {}).id)
    assert run.status == RunStatus.SUCCEEDED
    await engine.close()

    # The pipeline changes afterwards: the run's DAG does not.
    changed = PipelineSpec(name="p", tasks={"z": task("z", "true")})
    later = engines.open(WorkspaceSpec(root=tmp_path, file=spec.file, pipelines={"p": changed}))
    detail: RunDetail = later.run_detail(run.id)
    assert [(t.name, t.needs) for t in detail.tasks] == [("a", []), ("b", ["a"]), ("c", ["a", "b"])]


async def test_a_rerun_records_the_current_needs(tmp_path: Path, engines: Engines) -> None:
    first = workspace(tmp_path, task("a", "true"), task("b", "false", "a"))
    engine = engines.open(first)
    failed = await engine.wait_run(engine.start_run("p", {}).id)
    await engine.close()
    fixed = workspace(tmp_path, task("a", "true"), task("b", "true"))  # b no longer needs a
    engine = engines.open(fixed)
    rerun = await engine.wait_run(engine.rerun(failed.id).id)
    assert [(t.name, t.needs) for t in engine.run_detail(rerun.id).tasks] == [
        ("a", []),
        ("b", []),
    ]


def test_a_version_1_store_is_upgraded_and_its_runs_have_no_recorded_needs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shipdeck.db"
    with sqlite3.connect(path) as db:
        db.execute(V1_TASKS)
        db.execute(
            "INSERT INTO tasks (run_id, name, position, status) VALUES (1, 'a', 0, 'succeeded')"
        )
        db.execute("PRAGMA user_version = 1")
    store = Store(path)
    try:
        (old,) = store.tasks(1)
        assert old.name == "a" and old.needs is None
    finally:
        store.close()
    assert runs_version(path) == SCHEMA_VERSION
