"""One SQLite file, several parts (runs, ledger, schedules), one way to open, write and migrate
them (engine/database.py); and a file written before that scheme upgrades in place."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from shipdeck.engine.automation.schedule_store import SCHEDULES, ScheduleStore
from shipdeck.engine.database import (
    LEGACY_FENCE,
    NewerSchema,
    Schema,
    connect,
    migrate,
    transaction,
)
from shipdeck.engine.deploy.deploy_store import DeployStore
from shipdeck.engine.deploy.ledger import LEDGER, Ledger
from shipdeck.engine.deploy.registry import Registry
from shipdeck.engine.runs.store import RUNS, Store
from shipdeck.model import RunStatus

LEGACY = Path(__file__).parent / "data" / "history-v6.db"
"""Written by shipdeck before this scheme (data/make_history_v6.py): runs at user_version 6."""


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but meta, sorted, read without shipdeck."""
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            name: sorted(db.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
            for name in names
            if name != "meta"
        }


def meta(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    path = tmp_path / "shipdeck.db"
    shutil.copyfile(LEGACY, path)
    return path


def open_all(path: Path, order: str) -> None:
    """Open and close each part's store, in the order given (r: runs, l: ledger, s: schedules)."""
    for part in order:
        {"r": Store, "l": Ledger, "s": ScheduleStore}[part](path).close()


@pytest.mark.parametrize("order", ["rls", "lsr", "slr"])
def test_a_file_from_before_the_scheme_keeps_every_row(legacy: Path, order: str) -> None:
    before = dump(legacy)
    assert sum(len(rows) for rows in before.values()) > 40  # the fixture holds real history
    assert "runs_schema" not in meta(legacy) and user_version(legacy) == 6
    open_all(legacy, order)
    after = dump(legacy)
    for table, rows in before.items():  # later steps add tables and columns, never drop rows
        width = len(rows[0]) if rows else 0
        assert [row[:width] for row in after[table]] == rows, table
    versions = {key: value for key, value in meta(legacy).items() if key.endswith("_schema")}
    assert versions == {
        "runs_schema": str(RUNS.version),
        "ledger_schema": str(LEDGER.version),
        "schedule_schema": str(SCHEDULES.version),
    }
    assert meta(legacy)["seq_next"] == "1001"
    assert user_version(legacy) == LEGACY_FENCE  # a shipdeck from before refuses it now


def test_the_upgraded_file_reads_as_it_was_written(legacy: Path) -> None:
    store, ledger, schedules = Store(legacy), Ledger(legacy), ScheduleStore(legacy)
    try:
        runs = store.list_runs()
        assert [(r.id, r.status) for r in runs] == [
            ("3", RunStatus.SUCCEEDED),
            ("2", RunStatus.FAILED),
            ("1", RunStatus.SUCCEEDED),
        ]
        assert runs[0].cause is not None and runs[0].cause.schedule == "train.every"
        assert [t.needs for t in store.tasks("3")] == [[], ["prepare"]]
        assert [m.value for m in store.metrics("1")] == pytest.approx([0.81] * 3)
        assert store.codes(["1", "2", "3"])["2"].dirty is True
        assert [f.path for f in store.inputs(["1"])["1"]] == ["data/train.csv"]
        assert store.output_cursor("3", "fit").log_lines == 4
        registry = Registry(ledger)
        assert [v.version for v in registry.versions("churn")] == ["2", "1"]
        assert registry.aliases("churn") == {"champion": "2"}
        history = DeployStore(ledger).history("churn", "staging")
        assert [(h.to_revision, h.outcome.value) for h in history] == [("v2", "succeeded")]
        assert set(schedules.pauses()) == {"ingest"}
        assert schedules.last_fires()["train.every"].run_id == 3
        assert schedules.watched("ingest.on_change") == {"data/train.csv": "cd" * 32}
    finally:
        for part in (store, ledger, schedules):
            part.close()


def test_a_new_file_holds_each_part_at_its_version(tmp_path: Path) -> None:
    path = tmp_path / "shipdeck.db"
    open_all(path, "lsr")
    assert {k: v for k, v in meta(path).items() if k.endswith("_schema")} == {
        "runs_schema": str(RUNS.version),
        "ledger_schema": str(LEDGER.version),
        "schedule_schema": str(SCHEDULES.version),
    }
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("part", ["runs", "ledger", "schedule"])
def test_a_part_from_a_newer_shipdeck_is_refused_and_left_alone(tmp_path: Path, part: str) -> None:
    path = tmp_path / "shipdeck.db"
    open_all(path, "rls")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = ?", (f"{part}_schema",))
    before = dump(path)
    opener = {"runs": Store, "ledger": Ledger, "schedule": ScheduleStore}[part]
    with pytest.raises(NewerSchema, match=rf"newer shipdeck \({part} schema 99\)"):
        opener(path)
    assert dump(path) == before and meta(path)[f"{part}_schema"] == "99"


def test_a_run_history_with_a_newer_user_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shipdeck.db"
    with sqlite3.connect(path) as db:  # as a shipdeck from before the meta table would see it
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(NewerSchema, match="runs schema 99"):
        Store(path)


def test_upgrade_steps_run_once_and_only_on_tables_that_exist(tmp_path: Path) -> None:
    old = Schema("part", 1, "CREATE TABLE IF NOT EXISTS things (id INTEGER PRIMARY KEY)")
    new = Schema(
        "part",
        3,
        "CREATE TABLE IF NOT EXISTS things (id INTEGER PRIMARY KEY, size INTEGER, colour TEXT);"
        "CREATE TABLE IF NOT EXISTS others (id INTEGER PRIMARY KEY)",
        {
            2: [("things", "ALTER TABLE things ADD COLUMN size INTEGER")],
            3: [
                ("things", "ALTER TABLE things ADD COLUMN colour TEXT"),
                ("others", "ALTER TABLE others ADD COLUMN gone TEXT"),  # not there yet: skipped
            ],
        },
    )
    db = connect(tmp_path / "x.db")
    try:
        migrate(db, old)
        db.execute("INSERT INTO things (id) VALUES (7)")
        migrate(db, new)
        migrate(db, new)  # at its version: nothing to do
        assert db.execute("SELECT id, size, colour FROM things").fetchall() == [(7, None, None)]
        columns = [row[1] for row in db.execute("PRAGMA table_info(others)")]
        assert columns == ["id"]
        assert db.execute("SELECT value FROM meta WHERE key = 'part_schema'").fetchone() == ("3",)
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0  # not a legacy part
    finally:
        db.close()


def test_a_transaction_that_raises_writes_nothing(tmp_path: Path) -> None:
    db = connect(tmp_path / "x.db")
    try:
        db.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(KeyError), transaction(db):
            db.execute("INSERT INTO t VALUES (1)")
            raise KeyError("boom")
        with transaction(db):
            db.execute("INSERT INTO t VALUES (2)")
        assert db.execute("SELECT x FROM t").fetchall() == [(2,)]
        assert not db.in_transaction
    finally:
        db.close()


def test_every_part_opens_with_the_same_settings(tmp_path: Path) -> None:
    path = tmp_path / "shipdeck.db"
    for part in (Store(path), Ledger(path), ScheduleStore(path)):
        db = part._db if isinstance(part, Store) else part.db
        try:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
            assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        finally:
            part.close()
