"""The store's run queries over thousands of recorded runs: filters, counts and failure
streaks are answered by SQL over every run, not a window of the newest."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from shipdeck.engine.runs.store import SCHEMA_VERSION, Store
from shipdeck.model import Run, RunStatus
from tests.engine.legacy_store import mark_legacy, runs_version


def record(store: Store, pipeline: str, status: RunStatus, **params: str) -> str:
    run = Run(
        id=0,
        pipeline=pipeline,
        status=status,
        params=dict(params),
        created_at=datetime.now(UTC),
    )
    return store.insert_run(run, owner="test", tasks=[])


def test_a_long_failure_streak_is_one_line_with_its_count(tmp_path: Path) -> None:
    store = Store(tmp_path / "shipdeck.db")
    try:
        for _ in range(30):
            record(store, "tiny", RunStatus.SUCCEEDED)
        for index in range(300):
            status = RunStatus.INTERRUPTED if index == 7 else RunStatus.FAILED
            newest = record(store, "tiny", status)
            record(store, "busy", RunStatus.SUCCEEDED)  # a neighbour that keeps succeeding
        record(store, "tiny", RunStatus.CANCELLED)  # neither a failure nor a fix
        gone = record(store, "removed-since", RunStatus.FAILED)
        streaks = store.failure_streaks(10)
        assert [(run.pipeline, run.id, count) for run, count in streaks] == [
            ("removed-since", gone, 1),
            ("tiny", newest, 300),
        ]
        assert store.count_runs(pipeline="tiny", status=RunStatus.FAILED) == 299
        assert store.count_runs(status=RunStatus.SUCCEEDED) == 330
        assert len(store.list_runs(status=RunStatus.FAILED, limit=1000)) == 300
        assert store.failure_streaks(1)[0][0].id == gone
    finally:
        store.close()


def test_deploy_runs_fail_and_recover_per_environment(tmp_path: Path) -> None:
    store = Store(tmp_path / "shipdeck.db")
    try:
        staging = record(store, "deploy:api", RunStatus.FAILED, env="staging")
        record(store, "deploy:api", RunStatus.SUCCEEDED, env="dev")
        record(store, "deploy:api", RunStatus.FAILED, env="prod")
        prod = record(store, "deploy:api", RunStatus.FAILED, env="prod")
        record(store, "deploy:web", RunStatus.FAILED, env="prod")
        web = record(store, "deploy:web", RunStatus.SUCCEEDED, env="prod")
        streaks = store.failure_streaks(10)
        assert [(run.id, run.params["env"], count) for run, count in streaks] == [
            (prod, "prod", 2),
            (staging, "staging", 1),
        ]
        assert web > prod
    finally:
        store.close()


def test_status_filters_and_counts_use_indexes(tmp_path: Path) -> None:
    store = Store(tmp_path / "shipdeck.db")
    store.close()
    with sqlite3.connect(tmp_path / "shipdeck.db") as db:
        count = db.execute(
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM runs WHERE status = 'failed'"
        ).fetchall()
        streak = db.execute(
            "EXPLAIN QUERY PLAN SELECT MAX(id) FROM runs WHERE pipeline = 'p'"
            " AND status = 'succeeded'"
        ).fetchall()
    assert "USING COVERING INDEX runs_status" in str(count)
    assert "USING COVERING INDEX runs_pipeline_status" in str(streak)


def test_a_version_2_store_gains_the_status_indexes(tmp_path: Path) -> None:
    path = tmp_path / "shipdeck.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX runs_status")
        db.execute("DROP INDEX runs_pipeline_status")
        mark_legacy(db, 2)
    Store(path).close()
    with sqlite3.connect(path) as db:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"runs_status", "runs_pipeline_status"} <= names
    assert runs_version(path) == SCHEMA_VERSION == 8


def test_run_ids_are_text_above_the_store_and_numbers_in_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "shipdeck.db")
    try:
        first = record(store, "p", RunStatus.SUCCEEDED)
        second = record(store, "p", RunStatus.FAILED)
        assert (first, second) == ("1", "2")
        run = store.get_run(second)
        assert run is not None and (run.id, run.label) == ("2", "#2")
        # Ids this store never gives name no run: not an error, not a crash.
        for foreign in ("a1b2-c3", "02", "", "#2", str(2**64)):
            assert store.get_run(foreign) is None, foreign
        assert [r.id for r in store.list_runs(before=second)] == [first]
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "shipdeck.db") as db:  # no schema change: INTEGER keys
        assert db.execute("SELECT typeof(id) FROM runs").fetchall() == [("integer",)] * 2
